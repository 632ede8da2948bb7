"""Fault injection for the crash tests, outside the production code: a CLI run started with
this folder on PYTHONPATH and TOKEN_LEDGER_TEST_PAUSE_AT=<step> marks the step as under way
(`<home>/paused-at-<step>`) and pauses inside it, so the test can kill -9 the run mid-step.

Steps: `land` (after the first file is landed and committed, before the rest), `land-bulk`
(after the bulk pass committed its records as pending, before their checks), `build` (as dbt
starts; dbt takes long enough to be killed mid-build) and `publish` (the new file written,
before it replaces the published one). Python imports this module at start-up (`site`)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

STEP = os.environ.get("TOKEN_LEDGER_TEST_PAUSE_AT")


def _mark(step: str, pause: bool = True) -> None:
    from token_ledger.config import Home

    (Home.resolve(None).root / f"paused-at-{step}").touch()
    if pause:
        time.sleep(float(os.environ.get("TOKEN_LEDGER_TEST_PAUSE_SECONDS", "5")))


def _before(step: str, original: Callable[..., Any], pause: bool = True, once: bool = True) -> Callable[..., Any]:
    done = []

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not (once and done):
            done.append(True)
            _mark(step, pause)
        return original(*args, **kwargs)
    return wrapped


def _install() -> None:
    if STEP == "land":
        from token_ledger import landing

        original = landing.land_files

        def land_files(con: Any, files: list[Path], **kwargs: Any) -> Any:
            report = original(con, files[:1], **kwargs)
            _mark("land")
            return report.merge(original(con, files[1:], **kwargs))
        landing.land_files = land_files
    elif STEP == "land-bulk":
        from token_ledger.land import bulk

        bulk._reject_unclean = _before("land-bulk", bulk._reject_unclean)
    elif STEP == "build":
        from token_ledger import dbt_runner

        dbt_runner.build = _before("build", dbt_runner.build, pause=False)
    elif STEP == "publish":
        from token_ledger import publish

        publish._fsync = _before("publish", publish._fsync)


if STEP:
    _install()
