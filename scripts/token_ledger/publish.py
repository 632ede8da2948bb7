"""`token-ledger publish`: the public marts into analytics.duckdb, atomically.

The file is written next to its final place under a temporary name, checked, then moved
over the old one with os.replace (an atomic rename on POSIX). A reader that opened the old
file keeps reading it; the next open sees the new one, complete. The private warehouse is
opened read-only and attached, so publishing never needs the build's write lock.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb

from token_ledger import warehouse
from token_ledger.config import Home
from token_ledger.errors import LedgerError

# the storage format of the published file: DuckDB 1.4 and every newer client open it (the
# DuckDB builds inside BI drivers and other languages' packages lag the newest release; a file
# written by DuckDB 2.0 in its default format opens only in 2.0)
PUBLISHED_STORAGE_VERSION = "v1.4.0"


def public_models(home: Home) -> list[dict[str, str]]:
    """The models dbt marks `access: public`, from the last build's manifest."""
    manifest_path = home.root / "dbt" / "target" / "manifest.json"
    if not manifest_path.exists():
        raise LedgerError("no dbt manifest under the home folder; run `token-ledger build` first")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    models = []
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model" and node.get("access") == "public":
            models.append({
                "name": node.get("alias") or node["name"],
                "schema": node["schema"],
                "description": node.get("description", ""),
                "columns": {c: v.get("description", "") for c, v in node.get("columns", {}).items()},
            })
    if not models:
        raise LedgerError("the manifest has no public models to publish")
    return sorted(models, key=lambda m: m["name"])


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def publish(home: Home) -> list[str]:
    models = public_models(home)
    if not home.private_db.exists():
        raise LedgerError(f"no private warehouse at {home.private_db}; land and build first")
    for stale in home.root.glob(f".{home.published_db.name}.*.tmp"):
        stale.unlink(missing_ok=True)  # left by a publish that was killed; never the live file
    tmp = home.root / f".{home.published_db.name}.{os.getpid()}.tmp"
    con = warehouse.connect()
    try:
        con.execute(f"attach {_sql_string(str(tmp))} as published (storage_version '{PUBLISHED_STORAGE_VERSION}')")
        con.execute(f"attach {_sql_string(str(home.private_db))} as private (read_only)")
        for model in models:
            source = f'private."{model["schema"]}"."{model["name"]}"'
            target = f'published.main."{model["name"]}"'
            con.execute(f"create table {target} as select * from {source}")
            if model["description"]:
                con.execute(f"comment on table {target} is {_sql_string(model['description'].strip())}")
            for column, text in model["columns"].items():
                if text:
                    con.execute(f'comment on column {target}."{column}" is {_sql_string(text.strip())}')
        con.execute("detach private")
        con.execute("detach published")  # checkpoints the file
    except duckdb.Error as exc:
        con.close()
        tmp.unlink(missing_ok=True)
        raise LedgerError(f"publish failed: {str(exc).splitlines()[0]}") from exc
    con.close()
    _fsync(tmp)
    os.replace(tmp, home.published_db)
    _fsync(home.root)
    return [m["name"] for m in models]


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
