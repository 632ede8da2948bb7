"""A generated month of 60 people for the scheduled-operation tests, and the marts compared."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from conftest import query, run_cli

ENV = {"TOKEN_LEDGER_PSEUDONYM_KEY": "operations-test-key"}
MARTS = {
    "fct_usage_daily": "select * from fct_usage_daily order by all",
    "fct_user_usage_monthly": "select * from fct_user_usage_monthly order by all",
    "rpt_token_leaderboard": "select * from rpt_token_leaderboard order by all",
    "fct_budget_status": "select * exclude (as_of_date) from fct_budget_status order by all",
    "fct_usage_anomalies": "select * from fct_usage_anomalies order by all",
    "fct_focus_costs": "select * from fct_focus_costs order by all",
}


def marts(home: Path) -> dict[str, list]:
    return {name: query(home / "analytics.duckdb", sql) for name, sql in MARTS.items()}


@dataclass
class OperationsMonth:
    """30 days of 60 people (seed 9), and one clean `run` over all of it: the reference."""

    inputs: Path
    days: list[Path]
    people: Path
    reference: dict[str, list]
    reference_home: Path


def operations_month(root: Path) -> OperationsMonth:
    inputs = root / "in"
    run_cli(root / "gen", "generate", "--out", str(inputs), "--users", "60", "--days", "30", "--seed", "9")
    reference = root / "reference"
    run_cli(reference, "run", str(inputs), env=ENV)
    return OperationsMonth(inputs=inputs, days=sorted(inputs.glob("usage-*.jsonl")), people=inputs / "people.csv",
                           reference=marts(reference), reference_home=reference)


def hourly_files(days: list[Path], out: Path) -> list[Path]:
    """The daily files cut into one file per hour of occurred_at, as an hourly export delivers them."""
    out.mkdir()
    hours: dict[str, list[str]] = {}
    for day in days:
        for line in day.read_text(encoding="utf-8").splitlines():
            hours.setdefault(json.loads(line)["occurred_at"][:13], []).append(line)
    for hour, lines in hours.items():
        (out / f"usage-{hour.replace(':', '-')}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return sorted(out.iterdir())
