"""The Superset recipe of docs/bi.md, run as written (opt-in: `make test-bi`, about three minutes)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import query, run_cli

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
from superset.app import create_app
app = create_app()
with app.app_context():
    from superset.extensions import db
    from superset.models.core import Database
    from superset.sql.parse import Table
    database = db.session.query(Database).filter_by(database_name="token_ledger").one()
    print(sorted(t[0] for t in database.get_all_table_names_in_schema(catalog=None, schema="main")))
    print([c["column_name"] for c in database.get_columns(Table("fct_usage_daily", "main"))])
    frame = database.get_df("select sum(requests), sum(total_tokens), cast(sum(cost_usd) as varchar) "
                            "from fct_usage_daily", "main")
    print(tuple(frame.iloc[0].tolist()))
"""


@pytest.mark.bi
def test_superset_reads_the_published_file_by_the_recipe(tmp_path: Path) -> None:
    home = tmp_path / "home"
    run_cli(home, "generate", "--out", str(tmp_path / "in"), "--users", "20", "--days", "3")
    run_cli(home, "run", str(tmp_path / "in"))
    published = home / "analytics.duckdb"
    recipe = (ROOT / "docs" / "bi.md").read_text(encoding="utf-8")
    packages = re.search(r"superset-venv/bin/pip install (.+)", recipe).group(1).split()
    venv = tmp_path / "superset-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", *packages],
                   check=True)
    config = tmp_path / "superset_config.py"
    config.write_text(f'SECRET_KEY = "token-ledger-test-{"x" * 32}"\n'
                      f'SQLALCHEMY_DATABASE_URI = "sqlite:///{tmp_path}/superset.db"\n', encoding="utf-8")
    env = {"SUPERSET_CONFIG_PATH": str(config), "FLASK_APP": "superset", "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
           "HOME": str(tmp_path)}
    superset = str(venv / "bin" / "superset")
    subprocess.run([superset, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run([superset, "set-database-uri", "--database_name", "token_ledger",
                    "--uri", f"duckdb:///{published}?access_mode=read_only"], env=env, check=True,
                   capture_output=True)
    done = subprocess.run([str(venv / "bin" / "python"), "-c", PROBE], env=env, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    tables, columns, totals = done.stdout.strip().splitlines()[-3:]
    expected_tables = sorted(r[0] for r in query(published, "select table_name from information_schema.tables"))
    assert tables == str(expected_tables)
    assert columns == str([r[0] for r in query(published, "select column_name from information_schema.columns "
                                                          "where table_name = 'fct_usage_daily' "
                                                          "order by ordinal_position")])
    assert totals == str(query(published, "select sum(requests), sum(total_tokens), cast(sum(cost_usd) as varchar) "
                                          "from fct_usage_daily")[0])
