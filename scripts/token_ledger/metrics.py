"""`token-ledger metrics`: MetricFlow over the semantic layer, answered from analytics.duckdb.

The build writes dbt's semantic manifest, whose relations name the private warehouse. MetricFlow
reads `target/semantic_manifest.json` under the dbt project it runs in, so this module keeps a
small project of its own in `<home>/metrics/`: a profile that opens the published file read-only
and the semantic manifest with every relation pointed at the published copy of its mart
(`analytics.main.<mart>`). MetricFlow never sees the private warehouse, and every figure it
gives has the k rules of the published marts already applied.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from token_ledger.config import Home
from token_ledger.errors import LedgerError
from token_ledger.pseudonym import KEY_ENV

PROFILE = "token_ledger_published"


def _published_relation(relation: dict, database: str) -> dict:
    alias = relation["alias"]
    return {**relation, "database": database, "schema_name": "main",
            "relation_name": f'"{database}"."main"."{alias}"'}


def published_manifest(manifest: dict, database: str) -> dict:
    """The semantic manifest with every semantic model and the time spine read from the published file."""
    for model in manifest.get("semantic_models", []):
        model["node_relation"] = _published_relation(model["node_relation"], database)
    config = manifest.get("project_configuration", {})
    for spine in config.get("time_spines", []):
        spine["node_relation"] = _published_relation(spine["node_relation"], database)
    for table in config.get("time_spine_table_configurations", []):
        table["location"] = f'"{database}"."main".{table["location"].split(".")[-1]}'
    return manifest


def prepare(home: Home) -> Path:
    """Write `<home>/metrics/` (project, read-only profile, published semantic manifest); return it."""
    source = home.root / "dbt" / "target" / "semantic_manifest.json"
    if not source.exists():
        raise LedgerError("no semantic manifest under the home folder; run `token-ledger build` first")
    if not home.published_db.exists():
        raise LedgerError(f"no published file at {home.published_db}; run `token-ledger run` or `publish` first")
    project = home.sub("metrics")
    (project / "target").mkdir(exist_ok=True)
    database = home.published_db.stem
    manifest = published_manifest(json.loads(source.read_text(encoding="utf-8")), database)
    (project / "target" / "semantic_manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (project / "dbt_project.yml").write_text(
        f"# written by token-ledger metrics: MetricFlow over the published marts\n"
        f"name: {PROFILE}\nversion: \"1.0.0\"\nconfig-version: 2\nprofile: {PROFILE}\n", encoding="utf-8")
    (project / "profiles.yml").write_text(
        f"{PROFILE}:\n  target: published\n  outputs:\n    published:\n      type: duckdb\n"
        f"      path: {json.dumps(str(home.published_db))}\n      threads: 1\n"
        f"      config_options:\n        access_mode: READ_ONLY\n", encoding="utf-8")
    return project


def _mf() -> list[str]:
    beside = Path(sys.executable).with_name("mf")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("mf")
    if not found:
        raise LedgerError("MetricFlow (`mf`) is not installed; run `make setup`")
    return [found]


def metrics(home: Home, mf_args: list[str]) -> int:
    """Run `mf MF_ARGS` in the published-file project; MetricFlow's exit code."""
    project = prepare(home)
    env = {key: value for key, value in os.environ.items() if key != KEY_ENV}
    env.update({"DBT_PROFILES_DIR": str(project), "DBT_PROJECT_DIR": str(project),
                "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "HOME": str(project)})
    try:
        return subprocess.run([*_mf(), *mf_args], cwd=project, env=env, check=False).returncode
    except OSError as exc:
        raise LedgerError(f"cannot start MetricFlow: {exc}") from exc
