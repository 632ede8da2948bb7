"""Which usage days the incremental models rebuild: one rule, one queue (docs/operations.md).

`raw.rebuild_days` holds the days to rebuild. Landing queues, in the transaction of each
batch, the days its records belong to (however old); a landed directory or key-owner list
queues every day; `erase` queues the person's days; reference data (the seeds, the project's
vars, k, the pseudonym key) that differs from what the last complete build used queues every
day before a build (`queue_reference_change`), and says so. The models read the queue in SQL
(macro `days_to_rebuild`); a complete build that succeeded empties what was queued before it
began and records the reference data it used (`settle`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import sys
from pathlib import Path

import duckdb

from token_ledger.config import min_group_size, project_dir
from token_ledger.land.formats import FORMATS, LandingSpec
from token_ledger.pseudonym import resolve_key

CHECKSUMS_DDL = """
create schema if not exists audit;
create table if not exists audit.reference_checksums (
    part varchar primary key,
    checksum varchar not null,
    recorded_at timestamp not null
)
"""

LEGACY_STATE = ("restricted.incremental_state", "marts.incremental_day_digests")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def queue_landed(con: duckdb.DuckDBPyConnection, spec: LandingSpec, loaded_at: dt.datetime) -> None:
    """Inside a landing transaction: queue the days of the records landed at `loaded_at`; a
    format without days (the directory, key owners) is reference data: every day."""
    if spec.dated_by:
        con.execute(
            f"insert into raw.rebuild_days select distinct cast({spec.dated_by} as date), _batch_id, ? "
            f"from raw.{spec.table} where _loaded_at = ?",
            [loaded_at, loaded_at],
        )
    elif con.execute(f"select count(*) from raw.{spec.table} where _loaded_at = ?", [loaded_at]).fetchone()[0]:
        queue_every_day(con, f"landed {spec.name}")


def queue_every_day(con: duckdb.DuckDBPyConnection, reason: str) -> None:
    """Queue every day any raw table holds a record of."""
    days = " union ".join(f"select cast({spec.dated_by} as date) as usage_date from raw.{spec.table}"
                          for spec in FORMATS.values() if spec.dated_by)
    con.execute(f"insert into raw.rebuild_days select distinct usage_date, ?, ? from ({days}) "
                "where usage_date is not null", [reason, now()])


def reference_checksums(home_root: Path) -> dict[str, str]:
    """SHA-256 of each seed file (the CSVs and their YAML), of the project file (its vars) and
    of the models and macros (the code that made the history: an upgrade rebuilds it), the k in
    force, and an HMAC of a constant under the pseudonym key (a new key changes every user_key;
    the key itself is never stored)."""
    root = project_dir()
    parts = {f"seeds/{p.name}": p for p in sorted((root / "seeds").iterdir()) if p.suffix in (".csv", ".yml")}
    parts["dbt_project.yml"] = root / "dbt_project.yml"
    checksums = {name: hashlib.sha256(path.read_bytes()).hexdigest() for name, path in parts.items()}
    code = hashlib.sha256()
    for path in sorted(p for folder in ("models", "macros") for p in (root / folder).rglob("*")
                       if p.suffix in (".sql", ".yml")):
        text = path.read_bytes()
        code.update(f"{path.relative_to(root).as_posix()}\0{len(text)}\0".encode() + text)
    checksums["models and macros"] = code.hexdigest()
    checksums["TOKEN_LEDGER_MIN_GROUP_SIZE"] = str(min_group_size())
    checksums["pseudonym key"] = hmac.new(resolve_key(home_root), b"token-ledger reference check",
                                          hashlib.sha256).hexdigest()
    return checksums


def seeds_changed(changed: list[str]) -> bool:
    """Whether the seed tables must be loaded again: a seed file or the project file (which
    configures them) is among the changed reference parts."""
    return any(part.startswith("seeds/") or part == "dbt_project.yml" for part in changed)


def queue_reference_change(con: duckdb.DuckDBPyConnection, current: dict[str, str]) -> list[str]:
    """Before a build: when the reference data (`current`, from `reference_checksums`) differs
    from what the last complete build that succeeded used, queue every day and return what
    changed. Until such a build records it (`settle`), every build finds the change again."""
    con.execute(CHECKSUMS_DDL)
    for table in LEGACY_STATE:  # what earlier versions kept outside dbt's graph
        con.execute(f"drop table if exists {table}")
    recorded = dict(con.execute("select part, checksum from audit.reference_checksums").fetchall())
    changed = sorted(name for name in current.keys() | recorded.keys() if current.get(name) != recorded.get(name))
    if not changed:
        return []
    queue_every_day(con, "reference data changed")
    if recorded:
        print(f"reference data changed ({', '.join(changed)}): every day is rebuilt", file=sys.stderr)
    return changed


def settle(con: duckdb.DuckDBPyConnection, started: dt.datetime, reference: dict[str, str]) -> int:
    """After a complete build that succeeded: the days queued before it began are built, with
    the reference data `reference` (recorded, in the same transaction)."""
    con.execute(CHECKSUMS_DDL)
    con.execute("begin transaction")
    try:
        built = con.execute("delete from raw.rebuild_days where recorded_at <= ?", [started]).fetchone()[0]
        con.execute("delete from audit.reference_checksums")
        con.executemany("insert into audit.reference_checksums values (?, ?, ?)",
                        [[name, checksum, now()] for name, checksum in reference.items()])
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return built
