"""`token-ledger erase --user EMAIL`: the right to erasure in the private warehouse.

Deletes the person's raw records (usage of every format, directory rows, quarantined
records naming them) and records the erasure by keyed pseudonym only, so later landings of
old files can be filtered. The next build and publish carry it through the marts.
"""

from __future__ import annotations

import datetime as dt

from token_ledger import warehouse
from token_ledger.config import Home
from token_ledger.errors import LedgerError
from token_ledger.pseudonym import configure, hmac_sql

# raw table -> the column holding the person's email
IDENTITY_COLUMNS = {
    "canonical_events": "user_email",
    "people": "email",
}


def erase(home: Home, email: str) -> int:
    if "@" not in email:
        raise LedgerError("--user must be an email address")
    normalized = email.strip().lower()
    removed = 0
    with warehouse.private(home) as con:
        tables = {r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'").fetchall()}
        con.execute("begin transaction")
        for table, column in IDENTITY_COLUMNS.items():
            if table in tables:
                removed += con.execute(
                    f"delete from raw.{table} where lower(trim({column})) = ?", [normalized]).fetchone()[0]
        con.execute("update raw.people set manager_email = null where lower(trim(manager_email)) = ?", [normalized])
        con.execute("delete from raw.quarantine where contains(lower(raw_record), ?)", [normalized])
        # incremental tables keep history between builds: the person's rows go now
        incremental = {r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'restricted'").fetchall()}
        if "fct_usage_events" in incremental:
            removed += con.execute("delete from restricted.fct_usage_events where user_email = ?",
                                   [normalized]).fetchone()[0]
        if "fct_person_usage_daily" in incremental:
            con.execute("delete from restricted.fct_person_usage_daily where user_email = ?", [normalized])
        configure(con, home.root)
        con.execute(f"insert into raw.erasures select {hmac_sql('?')}, ?",
                    [normalized, dt.datetime.now(dt.UTC).replace(tzinfo=None)])
        con.execute("commit")
    return removed
