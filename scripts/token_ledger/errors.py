"""Errors the CLI reports as one line, without a traceback."""


class LedgerError(Exception):
    """A failure caused by input or configuration; the message names what was wrong."""


class LockedError(LedgerError):
    """Another run holds the home folder's lock."""
