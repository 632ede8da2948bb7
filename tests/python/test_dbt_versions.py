"""dbt 1.12: the project builds on it, with the same marts as on the pinned 1.11.

Only dbt-core 1.12.0 installs from the package registry here, and only with the pre-release
parser wheel dbt-core-experimental-parser 2.0.0a4 (later parser versions download a binary
from outside the registry at install time). The pins stay on 1.11 until a 1.12.x installs
cleanly; this test, in a throwaway venv, keeps the project ready for it. The venv sees this
one's packages (a .pth file) under its own copies of dbt-core 1.12 and what 1.12 needs that the
lock does not hold: the lock's other versions, as an upgrade of the pin would keep them
(`pip check` finds nothing else missing), installed in 3 s instead of 20.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from conftest import query, run_cli

ROOT = Path(__file__).resolve().parents[2]
DBT_1_12 = ["dbt-core==1.12.0", "dbt-core-experimental-parser==2.0.0a4", "lazy-importer==0.1.0",
            "python-dotenv==1.2.4", "sqlparse==0.5.5"]
KEY = "dbt-versions-test-key-0123456789abcdef0123456789"
MARTS = ["fct_usage_daily", "fct_user_usage_monthly", "fct_outcomes_daily", "rpt_value_per_token",
         "fct_budget_status", "rpt_cost_center_chargeback"]


def test_the_project_builds_on_dbt_1_12_with_the_same_marts(tmp_path: Path) -> None:
    env = {"TOKEN_LEDGER_PSEUDONYM_KEY": KEY}
    on_11 = tmp_path / "home-1.11"
    run_cli(on_11, "generate", "--out", str(tmp_path / "in"), "--users", "24", "--days", "4", "--outcomes")
    run_cli(on_11, "land", str(tmp_path / "in"), env=env)
    on_12 = tmp_path / "home-1.12"
    shutil.copytree(on_11, on_12)
    run_cli(on_11, "build", env=env)

    # a venv without pip of its own, installed into by this one's pip; no .pyc compiled ahead
    # (the build imports a fraction of what is installed): 25 s less than a venv with its pip
    venv = tmp_path / "dbt-1.12"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (Path(sysconfig.get_path("purelib", vars={"base": str(venv)})) / "lock.pth").write_text(
        sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "--disable-pip-version-check"]
    subprocess.run([*pip, "install", "--quiet", "--no-compile", "--no-deps", *DBT_1_12], check=True)
    checked = subprocess.run([*pip, "check"], capture_output=True, text=True, check=False).stdout.splitlines()
    assert [line for line in checked if not line.startswith("token-ledger ")] == []  # it pins dbt-core 1.11
    done = subprocess.run(
        [str(venv / "bin" / "dbt"), "build", "--no-partial-parse", "--project-dir", str(ROOT),
         "--profiles-dir", str(ROOT), "--target-path", str(on_12 / "dbt-1.12" / "target"),
         "--log-path", str(on_12 / "dbt-1.12" / "logs")],
        cwd=ROOT, capture_output=True, text=True, check=False,
        env={**os.environ, **env, "TOKEN_LEDGER_HOME": str(on_12), "PYTHONPATH": str(ROOT / "scripts"),
             "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"})
    assert done.returncode == 0, done.stdout[-3000:]
    assert "Running with dbt=1.12.0" in done.stdout, done.stdout[:3000]
    assert "ERROR=0" in done.stdout and "SKIP=0" in done.stdout
    for mart in MARTS:
        sql = f"select * from marts.{mart} order by all"
        rows = query(on_12 / "token_ledger.duckdb", sql)
        assert rows and rows == query(on_11 / "token_ledger.duckdb", sql), mart
