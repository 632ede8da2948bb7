"""Scheduled operation: idempotent and order-independent landing, incremental builds, crash
safety (kill -9 at every step), and no overlapping runs."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import query, run_cli

ENV = {"TOKEN_LEDGER_PSEUDONYM_KEY": "operations-test-key"}
MARTS = {
    "fct_usage_daily": "select * from fct_usage_daily order by all",
    "fct_user_usage_monthly": "select * from fct_user_usage_monthly order by all",
    "rpt_token_leaderboard": "select * from rpt_token_leaderboard order by all",
    "fct_budget_status": "select * exclude (as_of_date) from fct_budget_status order by all",
    "fct_usage_anomalies": "select * from fct_usage_anomalies order by all",
}


def marts(home: Path) -> dict[str, list]:
    return {name: query(home / "analytics.duckdb", sql) for name, sql in MARTS.items()}


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("operations")
    inputs = root / "in"
    run_cli(root / "gen", "generate", "--out", str(inputs), "--users", "60", "--days", "30", "--seed", "9")
    days = sorted(inputs.glob("usage-*.jsonl"))
    reference = root / "reference"
    run_cli(reference, "run", str(inputs), env=ENV)
    return {"root": root, "inputs": inputs, "days": days, "people": inputs / "people.csv",
            "reference": marts(reference), "reference_home": reference}


def test_twice_reverse_order_and_late_files_give_the_same_marts(month: dict, tmp_path: Path) -> None:
    home = tmp_path / "home"
    days = month["days"]
    late = days[3]
    on_time = [d for d in days if d != late]
    # reverse order, in three scheduled runs, the same files landed again, and a late file for an old day
    run_cli(home, "run", str(month["people"]), *map(str, reversed(on_time[7:])), env=ENV)
    run_cli(home, "run", *map(str, reversed(on_time[:7])), *map(str, on_time[7:]), env=ENV)
    run_cli(home, "run", str(late), str(days[0]), env=ENV)
    assert marts(home) == month["reference"]


def _hourly_files(days: list[Path], out: Path) -> list[Path]:
    """The daily files cut into one file per hour of occurred_at, as an hourly export delivers them."""
    out.mkdir()
    hours: dict[str, list[str]] = {}
    for day in days:
        for line in day.read_text(encoding="utf-8").splitlines():
            hours.setdefault(json.loads(line)["occurred_at"][:13], []).append(line)
    for hour, lines in hours.items():
        (out / f"usage-{hour.replace(':', '-')}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return sorted(out.iterdir())


def test_a_month_of_scheduled_runs_over_hourly_files_equals_a_full_refresh(month: dict, tmp_path: Path) -> None:
    """A month of hourly files (one per hour with usage) picked up by two dozen scheduled runs: one
    run per file for the four files either side of the first midnight, then one run per 31
    files (so most days are split across runs and rebuilt as they fill up), one hour held back
    and delivered last. The runs build the models without the data tests (those run at the
    end): the incremental state is what is under test."""
    home = tmp_path / "home"
    hourly = _hourly_files(month["days"], tmp_path / "hourly")
    days = sorted({f.name[6:16] for f in hourly})  # usage-YYYY-MM-DDTHH.jsonl; hours without usage have no file
    assert len(days) == 30
    late = hourly[len(hourly) // 3]
    on_time = [f for f in hourly if f != late]
    midnight = next(i for i, f in enumerate(on_time) if f.name[6:16] == days[1])  # the first file of day 2
    runs = [on_time[:midnight - 4], *([f] for f in on_time[midnight - 4:midnight + 4]),
            *(on_time[start:start + 31] for start in range(midnight + 4, len(on_time), 31)), [late]]
    run_cli(home, "land", str(month["people"]), env=ENV)
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
    assert marts(home) == month["reference"]


def test_a_second_concurrent_run_exits_with_a_clear_message(month: dict, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(month["reference_home"], home)
    (home / "run.lock").unlink(missing_ok=True)
    first = subprocess.Popen([sys.executable, "-m", "token_ledger.cli", "--home", str(home), "run"],
                             env={**os.environ, **ENV}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lock = home / "run.lock"
        deadline = time.monotonic() + 30
        holder = f"pid {first.pid} "
        while time.monotonic() < deadline and not (lock.exists() and holder in lock.read_text(errors="ignore")):
            time.sleep(0.05)
        second = run_cli(home, "run", env=ENV, check=False)
    finally:
        first.wait(timeout=300)
    assert second.code == 75
    assert "another token-ledger run holds" in second.err and "Traceback" not in second.err
    assert first.returncode == 0


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("step", ["land", "land-bulk", "build", "publish"])
def test_kill_9_at_each_step_loses_nothing(month: dict, tmp_path: Path, step: str) -> None:
    home = tmp_path / "home"
    days = month["days"]
    run_cli(home, "run", str(month["people"]), *map(str, days[:7]), env=ENV)
    published = _digest(home / "analytics.duckdb")
    process = subprocess.Popen(
        [sys.executable, "-m", "token_ledger.cli", "--home", str(home), "run", *map(str, days[7:])],
        env={**os.environ, **ENV, "TOKEN_LEDGER_TEST_PAUSE_AT": step},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    marker = home / f"paused-at-{step}"
    deadline = time.monotonic() + 240
    while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert marker.exists(), process.communicate()
    time.sleep(0.3)  # the step is under way
    process.send_signal(signal.SIGKILL)
    process.wait()
    # the published file is exactly as it was, and readable
    assert _digest(home / "analytics.duckdb") == published
    query(home / "analytics.duckdb", "select count(*) from fct_usage_daily")
    if step == "land-bulk":  # killed between the bulk insert and its checks: the rows are pending
        assert query(home / "token_ledger.duckdb", "select count(*) from raw.pending_batches")[0][0] > 0
    # the next run completes the work: nothing lost, nothing doubled
    run_cli(home, "run", *map(str, days[7:]), env=ENV)
    assert marts(home) == month["reference"]
    assert query(home / "token_ledger.duckdb", "select count(*) from raw.pending_batches") == [(0,)]
    landed = query(home / "token_ledger.duckdb", "select count(*) from raw.canonical_events")
    assert landed == query(month["reference_home"] / "token_ledger.duckdb",
                           "select count(*) from raw.canonical_events")
