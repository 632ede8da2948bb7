"""`token-ledger demo` (`make demo`): a demo organisation end to end, then a short summary."""

from __future__ import annotations

from token_ledger import warehouse
from token_ledger.config import Home
from token_ledger.generate import generate
from token_ledger.pipeline import run
from token_ledger.summary import published_totals, spend_line


def summary(home: Home) -> str:
    totals = published_totals(home.published_db)
    con = warehouse.connect(home.published_db, read_only=True)
    try:
        top = con.execute(
            "select model_id, sum(cost_usd) as cost from fct_usage_daily group by 1 order by 2 desc nulls last limit 5"
        ).fetchall()
        outcomes = con.execute(
            "select sum(commits), sum(pull_requests), sum(cost_usd) filter (where tool = 'claude-code') "
            "/ nullif(sum(pull_requests), 0) from fct_outcomes_daily").fetchone()
    finally:
        con.close()
    lines = [
        "",
        f"Token Ledger demo: {totals.first} to {totals.last}",
        f"  spend      {spend_line(totals)}",
        "  top models " + ", ".join(f"{m} ${c:,.2f}" for m, c in top),
        f"  outcomes   {outcomes[0] or 0:,} commits and {outcomes[1] or 0:,} pull requests with Claude Code"
        + (f" (${outcomes[2]:,.2f} of Claude Code per pull request)" if outcomes[2] is not None else ""),
        f"  published  {home.published_db}  (open it read-only with DuckDB or any BI tool)",
        f"  dashboard  {home.root / 'report' / 'index.html'}  (open it in a browser; it works offline)",
    ]
    return "\n".join(lines)


def demo(home: Home, users: int = 200, days: int = 31) -> int:
    inputs = home.sub("demo-input")
    result = generate(inputs, profile="demo", users=users, days=days, outcomes=True)
    print(f"generated {result.events} usage records for {users} people into {inputs}")
    code = run(home, [str(inputs)], summary=False)
    if code == 0:
        print(summary(home))
    return code
