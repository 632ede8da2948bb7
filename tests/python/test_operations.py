"""Scheduled operation: idempotent and order-independent landing, incremental builds, crash
safety (kill -9 at every step), no overlapping runs, and an upgrade that keeps every event id."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from conftest import Result, query, run_cli
from operations import ENV, OperationsMonth, marts


def test_twice_reverse_order_and_late_files_give_the_same_marts(ops_month: OperationsMonth, tmp_path: Path) -> None:
    home = tmp_path / "home"
    days = ops_month.days
    late = days[3]
    on_time = [d for d in days if d != late]
    # reverse order, in three scheduled runs, the same files landed again, and a late file for an old day
    run_cli(home, "run", str(ops_month.people), *map(str, reversed(on_time[7:])), env=ENV)
    run_cli(home, "run", *map(str, reversed(on_time[:7])), *map(str, on_time[7:]), env=ENV)
    run_cli(home, "run", str(late), str(days[0]), env=ENV)
    assert marts(home) == ops_month.reference


def test_a_change_to_a_months_groups_rebuilds_its_days_with_no_new_data(ops_month: OperationsMonth,
                                                                       tmp_path: Path) -> None:
    """The daily marts rebuild a day when its inputs change: here no record is new, only k (so
    which teams are published as themselves that month); every day must follow, as a full
    refresh with the same k does."""
    home = tmp_path / "home"
    shutil.copytree(ops_month.reference_home, home)
    (home / "run.lock").unlink(missing_ok=True)
    private = home / "token_ledger.duckdb"
    daily = "select * from marts.fct_usage_daily order by all"
    focus = "select * from marts.fct_focus_costs order by all"
    teams = "select count(distinct team_id) from marts.fct_usage_daily"
    models = ["--exclude", "resource_type:test", "resource_type:unit_test"]
    k20 = {**ENV, "TOKEN_LEDGER_MIN_GROUP_SIZE": "20"}
    before = query(private, teams)[0][0]
    run_cli(home, "build", "--", *models, env=k20)
    incremental = query(private, daily), query(private, focus)
    assert query(private, teams)[0][0] < before  # larger k: fewer teams published as themselves
    run_cli(home, "build", "--", "--full-refresh", *models, env=k20)
    assert (query(private, daily), query(private, focus)) == incremental
    # and a build with nothing changed leaves the rows as they are
    run_cli(home, "build", "--", *models, env=k20)
    assert (query(private, daily), query(private, focus)) == incremental


def test_a_second_concurrent_run_exits_with_a_clear_message(ops_month: OperationsMonth, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(ops_month.reference_home, home)
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


FAULTS = Path(__file__).parent / "faults"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def first_week(ops_month: OperationsMonth, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home that has run once over the first seven days (each kill test starts from a copy)."""
    home = tmp_path_factory.mktemp("first-week") / "home"
    run_cli(home, "run", str(ops_month.people), *map(str, ops_month.days[:7]), env=ENV)
    return home


def _run_reaching(home: Path, days: list[Path], step: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """`run` over `days`, started and followed until it marks `step` as under way (or ends). The
    fault injection lives in the tests (faults/sitecustomize.py), not in the production code."""
    process = subprocess.Popen(
        [sys.executable, "-m", "token_ledger.cli", "--home", str(home), "run", *map(str, days)],
        env={**os.environ, **ENV, "TOKEN_LEDGER_TEST_PAUSE_AT": step, "TOKEN_LEDGER_HOME": str(home), **(env or {}),
             "PYTHONPATH": os.pathsep.join(filter(None, [str(FAULTS), os.environ.get("PYTHONPATH")]))},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while not (home / f"paused-at-{step}").exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    return process


@pytest.mark.parametrize("step", ["land", "land-bulk", "build", "publish"])
def test_kill_9_at_each_step_loses_nothing(ops_month: OperationsMonth, first_week: Path, tmp_path: Path,
                                           step: str) -> None:
    home = tmp_path / "home"
    days = ops_month.days
    shutil.copytree(first_week, home)
    published = _digest(home / "analytics.duckdb")
    process = _run_reaching(home, days[7:], step)
    assert (home / f"paused-at-{step}").exists(), process.communicate()
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
    assert marts(home) == ops_month.reference
    assert query(home / "token_ledger.duckdb", "select count(*) from raw.pending_batches") == [(0,)]
    landed = query(home / "token_ledger.duckdb", "select count(*) from raw.canonical_events")
    assert landed == query(ops_month.reference_home / "token_ledger.duckdb",
                           "select count(*) from raw.canonical_events")


def test_event_ids_stored_as_text_by_earlier_versions_convert_in_place(ops_month: OperationsMonth,
                                                                       tmp_path: Path) -> None:
    """Earlier versions stored event_id as MD5 hex text; the next build turns the column into
    UUIDs with every id unchanged, so history built before and after the upgrade equals a full
    refresh."""
    home = tmp_path / "home"
    shutil.copytree(ops_month.reference_home, home)
    (home / "run.lock").unlink(missing_ok=True)
    private = home / "token_ledger.duckdb"
    con = duckdb.connect(str(private))
    try:
        # what earlier versions stored: md5(provider || '|' || request_id) as text, for report
        # buckets md5('bucket|' || bucket_id)
        con.execute("alter table restricted.fct_usage_events alter event_id type varchar using case "
                    "when starts_with(request_id, 'bucket:') then md5('bucket|' || request_id[8:]) "
                    "else md5(provider || '|' || request_id) end")
    finally:
        con.close()
    run_cli(home, "generate", "--out", str(tmp_path / "next"), "--users", "60", "--days", "1",
            "--start", "2026-10-31", "--seed", "10")
    run_cli(home, "land", *map(str, sorted((tmp_path / "next").glob("usage-*.jsonl"))), env=ENV)
    run_cli(home, "build", "--", "--exclude", "resource_type:test", "resource_type:unit_test", env=ENV)
    ids = "select event_id, provider, request_id from restricted.fct_usage_events order by all"
    upgraded = query(private, ids)
    assert query(private, "select distinct typeof(event_id) from restricted.fct_usage_events") == [("UUID",)]
    assert len(upgraded) > len(query(ops_month.reference_home / "token_ledger.duckdb", ids))
    run_cli(home, "build", "--", "--full-refresh", "--exclude", "resource_type:test", "resource_type:unit_test",
            env=ENV)
    assert query(private, ids) == upgraded
    # the id is the MD5 of provider and request id, as it was (checked here with Python's md5)
    assert all(str(event_id).replace("-", "") == hashlib.md5(f"{provider}|{request_id}".encode()).hexdigest()
               for event_id, provider, request_id in upgraded if not request_id.startswith("bucket:"))


@contextlib.contextmanager
def _small_disk(folder: Path, megabytes: int) -> Iterator[Path]:
    """A file system of `megabytes` at `folder` (tmpfs; needs root, else the test is skipped)."""
    folder.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs",
                                            str(folder)], capture_output=True, check=False).returncode:
        pytest.skip("mounting a small file system needs root (mount -t tmpfs)")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)


def _resize(folder: Path, megabytes: int) -> None:
    subprocess.run(["mount", "-o", f"remount,size={megabytes}m", str(folder)], capture_output=True, check=True)


def _fill(folder: Path) -> Path:
    """A file taking every byte left on `folder`'s file system."""
    filler = folder / "filler"
    with filler.open("wb") as handle, contextlib.suppress(OSError):
        while True:
            handle.write(b"\0" * 2**20)
            handle.flush()
    return filler


def _full_disk_run(home: Path, days: list[Path], step: str | None = None) -> Result:
    """`run` over `days`; with `step`, the disk filled as the run reaches it (the crash tests'
    fault injection marks the step; a paused bulk landing waits 3 s)."""
    if step is None:
        return run_cli(home, "run", *map(str, days), env=ENV, check=False)
    process = _run_reaching(home, days, step, {"TOKEN_LEDGER_TEST_PAUSE_SECONDS": "3"})
    _fill(home.parent)
    out, err = process.communicate()
    return Result(process.returncode, out, err)


@pytest.mark.parametrize("when", ["1 MB left", "land-bulk", "build"])
def test_a_full_disk_fails_in_one_line_and_the_next_run_completes(ops_month: OperationsMonth, first_week: Path,
                                                                   tmp_path: Path, when: str) -> None:
    """The home's disk fills while a run lands and builds 23 days: with 1 MB left (the disk
    fills as files land: some land, some fail), or filled whole as the bulk landing has
    inserted its records and before it checks them, or as dbt starts. Each time: exit code 3
    (docs/operations.md: the warehouse itself failed), one line per error and no traceback
    (dbt's log cannot be written either), the published file as it was. Once there is room,
    the scheduler's next run (the same command) completes the work: the marts equal one
    clean run's, no record lost."""
    with _small_disk(tmp_path / "disk", 400) as disk:
        home = disk / "home"
        shutil.copytree(first_week, home)
        published = _digest(home / "analytics.duckdb")
        if when == "1 MB left":
            _resize(disk, shutil.disk_usage(disk).used // 2**20 + 1)
        full = _full_disk_run(home, ops_month.days[7:], None if when == "1 MB left" else when)
        assert full.code == 3, full
        assert "No space left on device" in full.out + full.err  # the step that failed says why
        assert all(line.startswith(("error: ", "[")) for line in full.err.splitlines()), full.err
        assert _digest(home / "analytics.duckdb") == published
        (disk / "filler").unlink(missing_ok=True)
        _resize(disk, 400)
        run_cli(home, "run", *map(str, ops_month.days[7:]), env=ENV)
        assert marts(home) == ops_month.reference
