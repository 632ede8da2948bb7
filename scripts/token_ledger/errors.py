"""Errors the CLI reports as one line, without a traceback."""

import re


class LedgerError(Exception):
    """A failure caused by input or configuration; the message names what was wrong."""


class LockedError(LedgerError):
    """Another run holds the home folder's lock."""


QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|\{.*")
COLOURS = re.compile(r"\x1b\[[0-9;]*m")  # dbt colours some messages (a unit test's "actual differs from expected")


def one_line(message: object, limit: int = 200) -> str:
    """A library's message as one line for a terminal or a log: the first line that says what
    went wrong (not dbt's "Runtime Error in model … (path.sql)" heading), with whatever it
    quotes — possibly a record's value — replaced by `…`, and no terminal colour codes."""
    lines = [line.strip() for line in COLOURS.sub("", str(message or "")).splitlines() if line.strip()]
    said = next((line for line in lines if not line.endswith(".sql)")), lines[0] if lines else "")
    return QUOTED.sub("…", said)[:limit]


# how DuckDB says the warehouse itself failed, in a message that reached us as text (a dbt node's)
WAREHOUSE_FAILURES = ("IO Error", "Out of Memory Error", "No space left on device", "Corrupt database file")


def warehouse_failed(message: object) -> bool:
    """Whether a message says the warehouse itself failed (a full disk, memory, a corrupt file),
    not a model or the data: the exit code is then 3, as for DuckDB's errors raised here."""
    return any(marker in str(message or "") for marker in WAREHOUSE_FAILURES)
