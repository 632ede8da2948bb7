"""A month of hourly files picked up by scheduled runs: the incremental history equals a full
refresh and the published marts equal one clean run (its own module, so that pytest-xdist can
run it beside the other operations tests)."""

from __future__ import annotations

from pathlib import Path

from conftest import query, run_cli
from operations import ENV, OperationsMonth, hourly_files, marts


def test_a_month_of_scheduled_runs_over_hourly_files_equals_a_full_refresh(
        ops_month: OperationsMonth, tmp_path: Path) -> None:
    """A month of hourly files (one per hour with usage) picked up by two dozen scheduled runs: one
    run per file for the four files either side of the first midnight, then one run per 31
    files (so most days are split across runs and rebuilt as they fill up), one hour held back
    and delivered last. The runs build the models without the data tests (those run at the
    end): the incremental state is what is under test."""
    home = tmp_path / "home"
    hourly = hourly_files(ops_month.days, tmp_path / "hourly")
    days = sorted({f.name[6:16] for f in hourly})  # usage-YYYY-MM-DDTHH.jsonl; hours without usage have no file
    assert len(days) == 30
    late = hourly[len(hourly) // 3]
    on_time = [f for f in hourly if f != late]
    midnight = next(i for i, f in enumerate(on_time) if f.name[6:16] == days[1])  # the first file of day 2
    runs = [on_time[:midnight - 4], *([f] for f in on_time[midnight - 4:midnight + 4]),
            *(on_time[start:start + 31] for start in range(midnight + 4, len(on_time), 31)), [late]]
    run_cli(home, "land", str(ops_month.people), env=ENV)
    for files in runs:
        run_cli(home, "land", *map(str, files), env=ENV)
        run_cli(home, "build", "--", "--exclude", "resource_type:test", "resource_type:unit_test", env=ENV)
    facts = ["select * exclude (source_loaded_at) from restricted.fct_usage_events order by event_id",
             "select * exclude (source_loaded_at) from restricted.fct_person_usage_daily order by all"]
    incremental = [query(home / "token_ledger.duckdb", sql) for sql in facts]
    run_cli(home, "build", "--", "--full-refresh", env=ENV)
    full = [query(home / "token_ledger.duckdb", sql) for sql in facts]
    assert incremental == full
    run_cli(home, "validate", env=ENV)
    run_cli(home, "publish", env=ENV)
    assert marts(home) == ops_month.reference
