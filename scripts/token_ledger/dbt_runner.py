"""Run dbt against the private warehouse of a home folder."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from pathlib import Path

from token_ledger.config import Home, project_dir
from token_ledger.errors import LedgerError
from token_ledger.pseudonym import key_environment

PR_SET_PDEATHSIG = 1


def dbt_env(home: Home) -> dict[str, str]:
    env = dict(os.environ)
    env.update(key_environment(home))
    env["TOKEN_LEDGER_HOME"] = str(home.root)
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


def run_dbt(home: Home, args: list[str], quiet: bool = False) -> int:
    """Run `dbt ARGS` in the project with the home's environment; returns dbt's exit code."""
    dbt = Path(sys.executable).with_name("dbt")
    command = [str(dbt), *(["--quiet"] if quiet else []), *args]
    try:
        done = subprocess.run(command, cwd=project_dir(), env=dbt_env(home), check=False,
                              preexec_fn=_die_with_parent)
    except OSError as exc:
        raise LedgerError(f"cannot start dbt: {exc}") from exc
    return done.returncode


def build(home: Home, extra: list[str] | None = None) -> int:
    return run_dbt(home, ["build", *(extra or [])])
