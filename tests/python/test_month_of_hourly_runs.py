"""720 hourly runs, one per hour of a 30-day month, over generated data: the incremental history
equals a full refresh and the published marts equal one clean run.

Opt-in (`make test-month`, 40-70 minutes on 2 cores): dbt's own start-up alone is about 4 s
per invocation, so 720 runs of the CLI would take hours and cannot be part of `make test`. Each
hour here lands that hour's file and builds every model with dbt in this process, the project
parsed once (as a long-running scheduler would); the data tests, validation and publishing run
once at the end. `test_scheduled_runs.py` keeps a two-dozen-run version of this in `make test`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from conftest import dedup, query, read_jsonl, run_cli
from operations import ENV, OperationsMonth, hourly_files, marts

HOURS = 720


def _deliveries(hourly: list[Path], month_start: dt.datetime) -> list[list[Path]]:
    """What each of the 720 hourly runs finds in the drop folder: the file of the hour just
    ended (none for an hour without usage); one file held back ten days and delivered late;
    one file delivered a second time next hour (the same bytes: skipped); one file delivered
    again next hour in one file with that hour's records (new bytes: its records deduplicated)."""
    by_hour = {f.name[6:19]: f for f in hourly}  # usage-YYYY-MM-DDTHH.jsonl
    runs: list[list[Path]] = []
    for hour in range(HOURS):
        stamp = f"{month_start + dt.timedelta(hours=hour):%Y-%m-%dT%H}"
        runs.append([by_hour[stamp]] if stamp in by_hour else [])
    assert sum(map(len, runs)) == len(hourly), "every hourly file falls in the month"
    with_files = [i for i, files in enumerate(runs) if files]
    late, twice = with_files[len(with_files) // 3], with_files[len(with_files) // 2]
    overlapping = next(i for i in with_files[-60:] if runs[i + 1])  # an hour followed by one with usage
    runs[late + 240].append(runs[late].pop())
    runs[twice + 1].append(runs[twice][0])
    combined = runs[overlapping][0].with_name(f"resent-{runs[overlapping][0].name}")
    combined.write_text(runs[overlapping][0].read_text(encoding="utf-8")
                        + "".join(f.read_text(encoding="utf-8") for f in runs[overlapping + 1]), encoding="utf-8")
    runs[overlapping + 1] = [combined]
    return runs


@pytest.mark.month
def test_720_hourly_runs_equal_a_full_refresh_and_one_clean_run(
        ops_month: OperationsMonth, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.cli.main import dbtRunner

    from token_ledger.bench import MODELS_ONLY
    from token_ledger.config import Home
    from token_ledger.dbt_runner import dbt_env
    from token_ledger.landing import land_paths

    home = Home.resolve(str(tmp_path / "home"))
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    for name, value in dbt_env(home).items():  # the pseudonym key set above, as the CLI passes it to dbt
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(home.root)  # where the CLI runs dbt
    hourly = hourly_files(ops_month.days, tmp_path / "hourly")
    runs = _deliveries(hourly, dt.datetime.fromisoformat(ops_month.days[0].name[6:16]))

    parsed = dbtRunner().invoke(["--quiet", "parse"])
    assert parsed.success, parsed.exception
    dbt = dbtRunner(manifest=parsed.result)
    assert not land_paths(home, [str(ops_month.people)]).errors
    landed = skipped = 0
    for hour, files in enumerate(runs):
        if files:
            report = land_paths(home, list(map(str, files)))
            assert not report.errors, report.errors
            landed, skipped = landed + report.files_landed, skipped + report.files_skipped
        built = dbt.invoke(["build", *MODELS_ONLY])
        assert built.success, f"hourly run {hour}: {built.exception}"
    # dbt-duckdb keeps its DuckDB instance open between invocations in one process: close it,
    # so the read-only queries and the CLI below can open the file
    DuckDBConnectionManager._ENV.close()
    DuckDBConnectionManager._ENV = None
    # the resent file lands in place of the next hour's own; the repeated file is skipped
    assert (landed, skipped) == (len(hourly), 1)

    facts = ["select * exclude (source_loaded_at) from restricted.fct_usage_events order by event_id",
             "select * exclude (source_loaded_at) from restricted.fct_person_usage_daily order by all"]
    incremental = [query(home.private_db, sql) for sql in facts]
    assert len(incremental[0]) == len(dedup(read_jsonl(ops_month.days)))
    run_cli(home.root, "build", "--", "--full-refresh", env=ENV)
    assert [query(home.private_db, sql) for sql in facts] == incremental
    run_cli(home.root, "validate", env=ENV)
    run_cli(home.root, "publish", env=ENV)
    assert marts(home.root) == ops_month.reference
