"""`python -m token_ledger.dbt_worker`: a dbt process that gets ready before it is needed.

While its parent lands files, a thread imports dbt and parses the project (about 2
CPU-seconds, none of it touching the warehouse), with `--ahead` at the lowest CPU priority: it
takes only CPU the landing leaves idle, instead of slowing it down. Then it reads one line:
the dbt arguments as a JSON list, run once, at normal priority, with the parsed project. An
empty line or a closed stdin means there is nothing to run. The exit code is dbt's: 0
success, 1 a model or test failed, 2 dbt could not run.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import sys
import threading
from typing import Any


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

    parsed = dbtRunner().invoke(["--quiet", "parse"])
    # when the project does not parse, the run parses it again and reports the error as dbt does
    ready["manifest"] = parsed.result if parsed.success else None


def main(ahead: bool) -> int:
    """`ahead`: started before its command is known (otherwise it gets ready at normal priority)."""
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

    result = dbtRunner(manifest=ready.get("manifest")).invoke(json.loads(line))
    if result.success:
        return 0
    if isinstance(result.exception, DbtUsageException):  # dbt logs every other error itself
        print(f"Error: {result.exception}", file=sys.stderr)
    return 2 if result.exception is not None else 1


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
