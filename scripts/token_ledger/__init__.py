"""Token Ledger: a governed warehouse for an enterprise's LLM token usage."""

__version__ = "0.1.0"
