"""Run dbt against the private warehouse of a home folder.

dbt runs in a child process (`token_ledger.dbt_worker`) that imports dbt and parses the
project as soon as it starts, so a caller with other work first (landing) starts it early and
hands it the command when that work is done: the 2 s of getting dbt ready use the CPU that
work leaves idle (at the lowest priority) instead of following it.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import TracebackType

from token_ledger.config import Home, project_dir
from token_ledger.errors import LedgerError
from token_ledger.pseudonym import key_environment

PR_SET_PDEATHSIG = 1


def dbt_env(home: Home) -> dict[str, str]:
    """The environment of a dbt process, which runs in the home folder (its working directory).

    dbt sees the home as `.`: the warehouse path in its profile is then the same for every
    home, and so is the parse of the project (dbt reparses whenever the profile changes)."""
    env = dict(os.environ)
    env.update(key_environment(home))
    env["TOKEN_LEDGER_HOME"] = "."
    env["DBT_PROFILES_DIR"] = str(project_dir())
    env["DBT_PROJECT_DIR"] = str(project_dir())
    env["DBT_TARGET_PATH"] = str(home.sub("dbt") / "target")
    env["DBT_LOG_PATH"] = str(home.sub("dbt") / "logs")
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    env.setdefault("DBT_PARTIAL_PARSE", "true")
    return env


def _die_with_parent() -> None:
    """In the child: get SIGKILL when the parent dies, so a killed run never leaves dbt
    writing to the warehouse behind it (Linux; a no-op elsewhere)."""
    try:
        libc = ctypes.CDLL(None)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def _resident_kb(pid: int | str, field: str) -> int:
    """A memory figure of a process from /proc (VmRSS, VmHWM), in kB; 0 where unknown."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


class Dbt:
    """One dbt command, in a child process started now and given its arguments by `run`.

    Until `run`, the child only imports dbt and parses the project: it never opens the
    warehouse, so the caller may keep writing to it. Closing without `run` ends the child."""

    def __init__(self, home: Home, ahead: bool = True) -> None:
        """`ahead`: the command comes after other work, so dbt gets ready on CPU it leaves idle."""
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "token_ledger.dbt_worker", *(["--ahead"] if ahead else [])],
                cwd=home.root, env=dbt_env(home), stdin=subprocess.PIPE, text=True,
                preexec_fn=_die_with_parent)
        except OSError as exc:
            raise LedgerError(f"cannot start dbt: {exc}") from exc
        # kB, when `run` was called: the child's peak so far (getting ready, side by side with
        # the caller's work) and the caller's resident memory (held while dbt runs)
        self.ready_peak_kb = 0
        self.caller_resident_kb = 0
        self.peak_kb = 0  # the child's peak resident memory (kB), once it has ended

    def run(self, args: list[str], quiet: bool = False) -> int:
        """Run `dbt ARGS` and return dbt's exit code."""
        if self._process.stdin is None:
            raise LedgerError("internal error: one dbt process runs one command")
        self.ready_peak_kb = _resident_kb(self._process.pid, "VmHWM")
        self.caller_resident_kb = _resident_kb("self", "VmRSS")
        self._send(json.dumps([*(["--quiet"] if quiet else []), *args]))
        return self._wait()

    def close(self) -> int:
        """End the child (it runs nothing more) and return its exit code."""
        self._send("")
        return self._wait()

    def _wait(self) -> int:
        """The child's exit code, once it has ended; keeps its peak memory from the kernel."""
        if self._process.returncode is None:
            _, status, usage = os.wait4(self._process.pid, 0)
            self._process.returncode = os.waitstatus_to_exitcode(status)
            self.peak_kb = usage.ru_maxrss
        return self._process.returncode

    def _send(self, line: str) -> None:
        """The child's one line of input; a second one is never read, so it is not sent."""
        stdin, self._process.stdin = self._process.stdin, None
        if stdin is not None:
            with contextlib.suppress(BrokenPipeError):  # the child is gone: its exit code says why
                stdin.write(line + "\n")
                stdin.close()

    def __enter__(self) -> Dbt:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


def run_dbt(home: Home, args: list[str], quiet: bool = False) -> int:
    """Run `dbt ARGS` in the project with the home's environment; returns dbt's exit code."""
    with Dbt(home, ahead=False) as dbt:
        return dbt.run(args, quiet=quiet)


SELECTING = {"-s", "--select", "--selector", "-m", "--models", "--exclude"}


def _builds_every_model(extra: list[str]) -> bool:
    """No selection in `extra` but leaving out tests: every model is built."""
    for i, flag in enumerate(extra):
        value = extra[i + 1] if i + 1 < len(extra) else ""
        if flag in SELECTING and not (flag == "--exclude" and value.startswith("resource_type:")):
            return False
    return True


def scheduled_args(changed: list[str]) -> list[str]:
    """What a scheduled build leaves out, given the reference parts `changed` since the last
    complete build that succeeded: the unit tests (they test the code, not the data; `make
    test` runs them, and so does `token-ledger build -- --resource-type model unit_test`); the
    seeds and their tests while the seed files are those that build loaded; and the views while
    nothing changed (the models and macros are those it created them from, and DuckDB binds a
    view's query when it is read, so the view stands). The tests on the views still run."""
    from token_ledger import rebuild

    left_out = [*([] if rebuild.seeds_changed(changed) else ["path:seeds"]),
                *([] if changed else ["resource_type:model,config.materialized:view"])]
    # `empty`: leaving a node out leaves only it out, not the tests that read it
    return ["--exclude-resource-type", "unit_test",
            *(["--exclude", *left_out, "--indirect-selection", "empty"] if left_out else [])]


def build(home: Home, extra: list[str] | None = None, dbt: Dbt | None = None) -> int:
    """`dbt build EXTRA`, in `dbt` when the caller started one ahead of time; with no EXTRA, a
    scheduled build (`scheduled_args`). The incremental models rebuild the days queued in
    `raw.rebuild_days` (token_ledger.rebuild); a scheduled build, or one of every model, that
    succeeded empties what was queued before it."""
    from token_ledger import rebuild, warehouse

    reference = rebuild.reference_checksums(home.root)
    with warehouse.private(home) as con:
        changed = rebuild.queue_reference_change(con, reference)
    complete = not extra or _builds_every_model(extra)
    extra = extra or scheduled_args(changed)
    started = rebuild.now()
    code = run_dbt(home, ["build", *extra]) if dbt is None else dbt.run(["build", *extra])
    if code == 0 and complete:
        with warehouse.private(home) as con:
            rebuild.settle(con, started, reference)
    return code
