"""A person's identity as the CLI takes it: one email address, in one normal form."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from token_ledger.errors import LedgerError
from token_ledger.pseudonym import hmac_sql

ERASED = "[erased]"  # what an erased person's address becomes in a file name
ONE_EMAIL = re.compile(r"[^@\s,;<>\"']+@[^@\s,;<>\"']+\.[^@\s,;<>\"']+")


# characters that do not show yet make another string (as land.fields.INVISIBLE)
INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


def normal_identity(text: str) -> str:
    """A person's identity (an email, a user id, a login) in its one normal form, as landing
    stores it: invisible characters removed, Unicode NFKC, lower case, trimmed. Landing applies
    `land.fields.identity_sql` to every value and this to the few that are not ASCII."""
    return unicodedata.normalize("NFKC", INVISIBLE.sub("", text)).lower().strip()


def normalize_email(email: str, option: str = "--user") -> str:
    """One email address in its normal form (`normal_identity`); anything else is refused."""
    normalized = normal_identity(email)
    if not ONE_EMAIL.fullmatch(normalized):
        raise LedgerError(f"{option} must be one email address (name@domain)")
    return normalized


# an email address inside free text (a file name, a line that is not JSON)
EMAIL_IN_TEXT = r"[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]+"


def recorded_path(con, path: Path) -> str:
    """The file name landing records: an erased person's address in it becomes `[erased]`
    (the connection is set up by `pseudonym.configure`)."""
    name = str(path.resolve())
    for address in set(re.findall(EMAIL_IN_TEXT, name.lower())):
        erased = con.execute(f"select {hmac_sql('?')} in (select subject_key from raw.erasures)", [address])
        if erased.fetchone()[0]:
            name = re.sub(re.escape(address), ERASED, name, flags=re.IGNORECASE)
    return name
