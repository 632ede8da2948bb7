"""Data retention: raw usage records older than TOKEN_LEDGER_RETENTION_DAYS are purged from the
private warehouse once they are in the incremental facts. Default off (keep everything).

The marts keep those days: `fct_usage_events` is incremental and only rebuilds days that have
raw records, so purged days keep the rows (and prices) they were built with. A full refresh
(`token-ledger build -- --full-refresh`) can only rebuild what is still in raw.
"""

from __future__ import annotations

import os

from token_ledger import warehouse
from token_ledger.config import Home
from token_ledger.errors import LedgerError
from token_ledger.land.formats import FORMATS


def retention_days() -> int | None:
    raw = os.environ.get("TOKEN_LEDGER_RETENTION_DAYS", "").strip()
    if not raw:
        return None
    try:
        days = int(raw)
    except ValueError as exc:
        raise LedgerError(f"TOKEN_LEDGER_RETENTION_DAYS must be a whole number of days, got {raw!r}") from exc
    if days < 1:
        raise LedgerError("TOKEN_LEDGER_RETENTION_DAYS must be at least 1")
    return days


def purge_raw(home: Home) -> int:
    days = retention_days()
    if days is None:
        return 0
    purged = 0
    with warehouse.private(home) as con:
        built = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'restricted' "
            "and table_name = 'fct_usage_events'").fetchone()[0]
        if not built:
            return 0
        con.execute("begin transaction")
        for spec in FORMATS.values():
            if not spec.dated_by:
                continue
            table, column = spec.table, spec.dated_by
            purged += con.execute(
                f"delete from raw.{table} where {column} < current_date - ?::integer "
                f"and cast({column} as date) in (select distinct usage_date from restricted.fct_usage_events)",
                [days],
            ).fetchone()[0]
        con.execute("commit")
    return purged
