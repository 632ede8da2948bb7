"""`python -m token_ledger.dbt_worker`: a dbt process that gets ready before it is needed.

While its parent lands files, a thread imports dbt and parses the project (about 2
CPU-seconds, none of it touching the warehouse), with `--ahead` at the lowest CPU priority: it
takes only CPU the landing leaves idle, instead of slowing it down. Then it reads one line:
the dbt arguments as a JSON list, run once, at normal priority, with the parsed project. An
empty line or a closed stdin means there is nothing to run. The exit code: 0 success, 1 a
model or test failed, 2 dbt's arguments were wrong, 3 dbt could not run (the warehouse
cannot be opened: a corrupt file, a full disk).

dbt's own log goes to `<home>/dbt/logs/dbt.log` only, at info level: each node and each error
(`-- --log-level-file debug` adds every SQL statement, for about 10% of a small build's time).
The terminal gets a progress bar and a one-screen summary (`summary`): nodes by kind, tests
passed and failed, the time, the failed nodes by name and what went wrong in one line each,
never a traceback.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import sys
import threading
import time
from collections import Counter
from typing import Any

from token_ledger.errors import one_line, warehouse_failed


def _set_thread_priority(thread_id: int, niceness: int) -> None:
    """Linux gives each thread its own niceness; raising it back may be refused (then the
    thread finishes at the low priority, which costs nothing on an otherwise idle machine)."""
    if sys.platform == "linux":
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, thread_id, niceness)


def _prepare(ready: dict[str, Any], ahead: bool) -> None:
    if ahead:
        _set_thread_priority(threading.get_native_id(), 19)
    from dbt.cli.main import dbtRunner

    # the command writes manifest.json and the semantic manifest itself, so the parse need not
    parsed = dbtRunner().invoke(["--quiet", "--no-write-json", "parse"])
    # when the project does not parse, the run parses it again and reports the error as dbt does
    ready["manifest"] = parsed.result if parsed.success else None


def main(ahead: bool) -> int:
    """`ahead`: started before its command is known (otherwise it gets ready at normal priority)."""
    # a line dbt cannot write to its log (a full disk) is dropped, not printed with a traceback
    # for each (Python's default); the failure it comes with is in the summary
    logging.raiseExceptions = False
    ready: dict[str, Any] = {}
    preparing = threading.Thread(target=_prepare, args=(ready, ahead), name="prepare-dbt")
    preparing.start()
    line = sys.stdin.readline()
    if preparing.native_id is not None:
        _set_thread_priority(preparing.native_id, os.getpriority(os.PRIO_PROCESS, 0))
    preparing.join()
    if not line.strip():
        return 0

    from dbt.cli.exceptions import DbtUsageException
    from dbt.cli.main import dbtRunner

    from token_ledger.progress import bar

    args = json.loads(line)
    quiet = "--quiet" in args
    progress = bar("dbt", 0)
    started = time.monotonic()
    # the console gets nothing from dbt (its file log does): the bar and summary instead
    # and dbt-duckdb's bare prints ("Did not retry exception …") are not for the terminal either
    file_level = [] if "--log-level-file" in args else ["--log-level-file", "info"]
    with open(os.devnull, "w") as nowhere, contextlib.redirect_stdout(nowhere):
        result = dbtRunner(manifest=ready.get("manifest"), callbacks=[_counter(progress)]).invoke(
            ["--log-level", "none", *file_level, *args])
    progress.close()
    if isinstance(result.exception, DbtUsageException):
        print(f"Error: {result.exception}", file=sys.stderr)
    elif result.exception is not None:
        print(f"error: dbt could not run: {one_line(result.exception)}; see {_log_file()}", file=sys.stderr)
    elif not quiet:
        for text in summary(result.result, time.monotonic() - started):
            print(text)
    if result.success:
        return 0
    if result.exception is None:  # a node failed: for want of disk or memory, or in itself
        return 3 if any(warehouse_failed(item.message) for item in getattr(result.result, "results", [])
                        if str(getattr(item.status, "value", item.status)) == "error") else 1
    return 2 if isinstance(result.exception, DbtUsageException) else 3


def _counter(progress: Any):
    """A dbt event callback moving the bar: one step per finished node, the total once known."""
    def on_event(msg: Any) -> None:
        total = getattr(msg.data, "total", 0)
        if total and progress.total != total:
            progress.total = total
            progress.refresh()
        if msg.info.name == "NodeFinished":
            progress.update(1)
    return on_event


def _log_file() -> str:
    return os.path.join(os.environ.get("DBT_LOG_PATH", "logs"), "dbt.log")


def summary(execution: Any, seconds: float) -> list[str]:
    """One screen: what ran by kind and status, then each node that did not pass."""
    results = getattr(execution, "results", None)
    if results is None:  # a command without node results (parse, docs generate …)
        return [f"dbt finished in {seconds:.1f} s; log: {_log_file()}"]
    kinds: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    problems = []
    for item in results:
        kind = str(getattr(item.node, "resource_type", "node")).split(".")[-1].lower().replace("_", " ")
        status = str(getattr(item.status, "value", item.status)).lower()
        kinds[kind] += 1
        statuses[status] += 1
        if status in ("fail", "error", "warn", "runtime error"):
            problems.append(f"  {status}: {kind} {item.node.name}" + (
                f" — {one_line(item.message)}" if item.message else ""))
    what = ", ".join(f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in sorted(kinds.items()))
    passed = statuses["success"] + statuses["pass"]
    failed = statuses["fail"] + statuses["error"] + statuses["runtime error"]
    return [
        f"dbt: {what} in {seconds:.1f} s: {passed} passed, {failed} failed, {statuses['warn']} warned, "
        f"{statuses['skipped']} skipped; full log: {_log_file()}",
        *problems[:20],
        *([f"  … and {len(problems) - 20} more (see the log)"] if len(problems) > 20 else []),
    ]


def _exit(code: int) -> None:
    """Exit without Python's own shutdown, which frees every object dbt made one by one (about
    0.4 s after the work is done). First the warehouse is closed (DuckDB checkpoints it) and
    the exit handlers run (logging, multiprocessing's semaphores) as a normal exit would."""
    connections = sys.modules.get("dbt.adapters.duckdb.connections")
    environment = connections.DuckDBConnectionManager._ENV if connections else None
    if environment is not None:
        environment.close()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    try:
        _exit(main(ahead="--ahead" in sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
