"""The closing summaries of `run` and `demo`: figures read back from the published file."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb

from token_ledger import warehouse


@dataclass(frozen=True)
class Totals:
    """What a published file holds in fct_usage_daily."""

    first: dt.date | None
    last: dt.date | None
    cost_usd: Decimal
    requests: int
    tokens: int
    unpriced_requests: int = 0  # their cost is unknown: not in cost_usd


def read_totals(con: duckdb.DuckDBPyConnection) -> Totals:
    """The totals of fct_usage_daily in the published file `con` is open on."""
    return Totals(*con.execute("select min(usage_date), max(usage_date), coalesce(sum(cost_usd), 0), "
                               "coalesce(sum(requests), 0), coalesce(sum(total_tokens), 0), "
                               "coalesce(sum(unpriced_requests), 0) from fct_usage_daily").fetchone())


def published_totals(path: Path) -> Totals | None:
    """The totals of a published file; None when there is none (or it cannot be read)."""
    if not path.exists():
        return None
    try:
        con = warehouse.connect(path, read_only=True)
        try:
            return read_totals(con)
        finally:
            con.close()
    except duckdb.Error:
        return None


def spend_line(totals: Totals) -> str:
    tokens = f"{totals.tokens / 1e9:,.2f} billion" if totals.tokens >= 1e8 else f"{totals.tokens:,}"
    line = f"${totals.cost_usd:,.2f} for {totals.requests:,} requests and {tokens} tokens"
    if totals.unpriced_requests:  # a spend that leaves some out says so, and where to look
        line += (f"; {totals.unpriced_requests:,} of the requests unpriced, not in the spend "
                 "(restricted.rpt_unpriced_usage says why)")
    return line


def _signed(value: Decimal | int, money: bool = False) -> str:
    sign = "-" if value < 0 else "+"
    return f"{sign}${abs(value):,.2f}" if money else f"{sign}{abs(value):,}"


def changed_line(before: Totals | None, after: Totals) -> str:
    if before is None:
        return "first publish"
    if (before.cost_usd, before.requests, before.tokens) == (after.cost_usd, after.requests, after.tokens):
        return "no change to the published totals"
    return (f"spend {_signed(after.cost_usd - before.cost_usd, money=True)}, "
            f"requests {_signed(after.requests - before.requests)}, tokens {_signed(after.tokens - before.tokens)}")
