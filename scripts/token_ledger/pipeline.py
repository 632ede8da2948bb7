"""`token-ledger run`: land, build, validate, publish — the command a scheduler calls.

A lock file in the home folder keeps two runs from overlapping. Publishing happens only
when every earlier step passed, so a failed run leaves the previous published file as it
was. Each run appends a row to `audit.run_log` in the private warehouse.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from token_ledger import warehouse
from token_ledger.config import Home, project_dir
from token_ledger.errors import LedgerError, LockedError
from token_ledger.summary import Totals, changed_line, published_totals, spend_line

RUN_LOG_DDL = """
create schema if not exists audit;
create table if not exists audit.run_log (
    run_id varchar primary key,
    started_at timestamp not null,
    finished_at timestamp,
    status varchar not null,
    failed_step varchar,
    step_seconds json,
    files_landed bigint,
    files_skipped bigint,
    records_landed bigint,
    records_quarantined bigint,
    dbt_exit_code integer,
    models_built bigint,
    tests_passed bigint,
    tests_failed bigint,
    validation_passed boolean,
    published boolean,
    git_revision varchar,
    alerts_sent bigint
);
alter table audit.run_log add column if not exists alerts_sent bigint;
alter table audit.run_log add column if not exists records_purged bigint;
"""


@contextmanager
def run_lock(home: Home) -> Iterator[None]:
    handle = home.lock_file.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise LockedError(f"another token-ledger run holds {home.lock_file} ({holder}); not starting") from exc
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M:%SZ}\n")
        handle.flush()
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def dbt_counts(home: Home) -> dict[str, int]:
    """Nodes built and tests passed / failed, from dbt's run_results.json."""
    path = home.root / "dbt" / "target" / "run_results.json"
    counts = {"built": 0, "tests_passed": 0, "tests_failed": 0}
    if not path.exists():
        return counts
    for result in json.loads(path.read_text(encoding="utf-8")).get("results", []):
        kind = result.get("unique_id", "").split(".")[0]
        status = result.get("status")
        if kind in ("test", "unit_test") and status in ("pass", "fail", "error", "warn"):
            counts["tests_passed" if status == "pass" else "tests_failed"] += 1
        elif status == "success":
            counts["built"] += 1
    return counts


def git_revision() -> str | None:
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=project_dir(), capture_output=True,
                              text=True, check=False, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


@dataclass
class RunRecord:
    run_id: str
    started_at: dt.datetime
    steps: dict[str, float] = field(default_factory=dict)
    status: str = "running"
    failed_step: str | None = None
    files_landed: int = 0
    files_skipped: int = 0
    records_landed: int = 0
    records_quarantined: int = 0
    dbt_exit_code: int | None = None
    dbt: dict[str, int] = field(default_factory=dict)
    records_purged: int = 0
    validation_passed: bool | None = None
    published: bool = False
    alerts_sent: int = 0
    published_before: Totals | None = None  # the published file's totals when the run began

    def timed(self, name: str, action: Callable[[], bool]) -> bool:
        start = time.monotonic()
        print(f"[{name}] ...", file=sys.stderr, flush=True)
        ok = action()
        self.steps[name] = round(time.monotonic() - start, 3)
        if not ok:
            self.status, self.failed_step = "failed", name
        return ok


def _write_log(home: Home, record: RunRecord) -> None:
    with warehouse.private(home) as con:
        con.execute(RUN_LOG_DDL)
        con.execute(
            "insert or replace into audit.run_log by name select ? as run_id, ? as started_at, ? as finished_at, "
            "? as status, ? as failed_step, ? as step_seconds, ? as files_landed, ? as files_skipped, "
            "? as records_landed, ? as records_quarantined, ? as dbt_exit_code, ? as models_built, "
            "? as tests_passed, ? as tests_failed, ? as validation_passed, ? as published, ? as git_revision, "
            "? as alerts_sent, ? as records_purged",
            [record.run_id, record.started_at, dt.datetime.now(dt.UTC).replace(tzinfo=None), record.status,
             record.failed_step, json.dumps(record.steps), record.files_landed, record.files_skipped,
             record.records_landed, record.records_quarantined, record.dbt_exit_code,
             record.dbt.get("built"), record.dbt.get("tests_passed"), record.dbt.get("tests_failed"),
             record.validation_passed, record.published, git_revision(), record.alerts_sent, record.records_purged],
        )


def closing_summary(home: Home, record: RunRecord) -> str:
    """What a person reads at the end of a run: period, spend, what changed, alerts, where to look."""
    after = published_totals(home.published_db)
    seconds = sum(record.steps.values())
    lines = ["", f"Token Ledger run {record.status} in {seconds:,.1f} s"]
    if after is not None:
        lines += [f"  period     {after.first} to {after.last} (UTC days)",
                  f"  spend      {spend_line(after)}",
                  f"  changed    {record.records_landed:,} records landed from {record.files_landed:,} files, "
                  f"{record.records_quarantined:,} quarantined; {changed_line(record.published_before, after)}"]
    alerts_file = home.root / "alerts" / f"{record.run_id}.jsonl"
    lines += [f"  alerts     {record.alerts_sent:,} sent" + (f" ({alerts_file})" if record.alerts_sent else ""),
              f"  published  {home.published_db}  (open it read-only with DuckDB or any BI tool)",
              f"  dashboard  {home.root / 'report' / 'index.html'}  (open it in a browser; it works offline)"]
    return "\n".join(lines)


def _import_quietly(importer: Callable[[], None]) -> None:
    """Import ahead of use; a failure shows when it is used."""
    with contextlib.suppress(Exception):
        importer()


def run(home: Home, paths: list[str], fmt: str = "auto", user: str | None = None, summary: bool = True,
        owners: str | None = None) -> int:
    """`summary`: end with the closing summary (the demo prints its own)."""
    from token_ledger import alerts
    from token_ledger.dbt_runner import Dbt, build
    from token_ledger.landing import land_paths
    from token_ledger.publish import publish
    from token_ledger.retention import purge_raw
    from token_ledger.validate import import_great_expectations, validate

    with run_lock(home), Dbt(home, ahead=bool(paths)) as dbt:  # dbt gets ready while the files land
        started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        record = RunRecord(run_id=f"{started:%Y%m%dT%H%M%S%f}-{os.getpid()}", started_at=started)
        errors: list[str] = []
        broken: list[str] = []  # the warehouse itself failed (a full disk, memory, a corrupt file)

        def do_land() -> bool:
            report = land_paths(home, paths, fmt=fmt, user=user, owners=owners)
            record.files_landed, record.files_skipped = report.files_landed, report.files_skipped
            record.records_landed, record.records_quarantined = report.records_landed, report.records_quarantined
            print(report.line())
            for warning in report.warnings + report.refused:  # bad input never stops the run
                print(f"warning: {warning}", file=sys.stderr)
            broken.extend(report.errors)
            return not report.errors

        def do_build() -> bool:
            # Great Expectations takes seconds to import: it does so on the core dbt leaves idle
            threading.Thread(target=_import_quietly, args=(import_great_expectations,), daemon=True).start()
            record.dbt_exit_code = build(home, dbt=dbt)
            record.dbt = dbt_counts(home)
            return record.dbt_exit_code == 0

        def do_validate() -> bool:
            result = validate(home, run_name=record.run_id)
            print(result.line())
            record.validation_passed = result.success
            for batch, checks in sorted(result.flagged.items()):  # already landed: flagged, never blocking
                print(f"warning: landed batch {batch} failed {', '.join(sorted(checks))}; flagged and alerted, "
                      "the rest is published", file=sys.stderr)
            return result.publishable

        def do_publish() -> bool:
            record.published_before = published_totals(home.published_db)
            tables = publish(home)
            print(f"published {len(tables)} tables to {home.published_db}")
            record.published = True
            return True

        def do_report() -> bool:
            from token_ledger.report import build_report

            print(f"dashboard: {build_report(home)}")
            return True

        def do_alerts() -> bool:
            sent = alerts.emit(home, record.run_id)
            record.alerts_sent = sent
            print(f"sent {sent} new alerts" + (f" to {home.root / 'alerts' / (record.run_id + '.jsonl')}"
                                                 if sent else ""))
            return True

        def do_retention() -> bool:
            record.records_purged = purge_raw(home)
            if record.records_purged:
                print(f"purged {record.records_purged} raw records past the retention period")
            return True

        steps = [("build", do_build), ("validate", do_validate), ("publish", do_publish), ("report", do_report),
                 ("alerts", do_alerts),
                 ("retention", do_retention)]
        if paths:
            steps.insert(0, ("land", do_land))
        try:
            for name, action in steps:
                if not record.timed(name, action):
                    break
            else:
                record.status = "succeeded"
        except LedgerError as exc:
            record.status, record.failed_step = "failed", record.failed_step or name
            errors.append(str(exc))
        finally:
            _write_log(home, record)
        for error in broken + errors:
            print(f"error: {error}", file=sys.stderr)
        if record.status != "succeeded":
            print(f"error: run failed at step '{record.failed_step}'; the published file was left as it was",
                  file=sys.stderr)
            return 3 if broken or record.dbt_exit_code == 3 else 1
        if summary:
            print(closing_summary(home, record))
        return 0
