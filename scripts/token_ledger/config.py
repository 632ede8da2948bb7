"""Where things live: the home folder, the dbt project, environment settings."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from token_ledger.errors import LedgerError

PRIVATE_DB = "token_ledger.duckdb"
PUBLISHED_DB = "analytics.duckdb"


def project_dir() -> Path:
    """The dbt project root (holds dbt_project.yml)."""
    override = os.environ.get("TOKEN_LEDGER_PROJECT_DIR")
    if override:
        return Path(override).resolve()
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "dbt_project.yml").is_file():
            return parent
    raise LedgerError("cannot find dbt_project.yml; set TOKEN_LEDGER_PROJECT_DIR")


@dataclass(frozen=True)
class Home:
    """The home folder: private and published warehouses plus run artefacts."""

    root: Path

    @classmethod
    def resolve(cls, home: str | None) -> Home:
        raw = home or os.environ.get("TOKEN_LEDGER_HOME") or "warehouse"
        root = Path(raw).expanduser().resolve()
        root.mkdir(parents=True, exist_ok=True)
        return cls(root)

    @property
    def private_db(self) -> Path:
        return self.root / PRIVATE_DB

    @property
    def published_db(self) -> Path:
        return self.root / PUBLISHED_DB

    def sub(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def secrets_dir(self) -> Path:
        path = self.sub("secrets")
        path.chmod(0o700)
        return path

    @property
    def lock_file(self) -> Path:
        return self.root / "run.lock"


ENVS = ("dev", "prod")
TARGETS = ("dev", "ci")  # the outputs of profiles.yml
# a size as DuckDB reads one: a number and a unit (its error lists these)
SIZE = re.compile(r"[0-9]+(\.[0-9]+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)


def env_name() -> str:
    value = os.environ.get("TOKEN_LEDGER_ENV", "dev").strip().lower() or "dev"
    if value not in ENVS:  # "production" must not quietly mean dev (a generated key, no check)
        raise LedgerError(f"TOKEN_LEDGER_ENV must be dev or prod, got {value!r}")
    return value


def min_group_size() -> int:
    raw = os.environ.get("TOKEN_LEDGER_MIN_GROUP_SIZE", "5")
    try:
        value = int(raw)
    except ValueError as exc:
        raise LedgerError(f"TOKEN_LEDGER_MIN_GROUP_SIZE must be a whole number, got {raw!r}") from exc
    if value < 1:
        raise LedgerError(f"TOKEN_LEDGER_MIN_GROUP_SIZE must be at least 1, got {value}")
    return value


def memory_limit() -> str:
    """DuckDB's memory limit for every connection (it spills to disk beyond it)."""
    value = os.environ.get("TOKEN_LEDGER_MEMORY_LIMIT", "4GB").strip() or "4GB"
    if not SIZE.fullmatch(value):
        raise LedgerError(f"TOKEN_LEDGER_MEMORY_LIMIT must be a size such as 4GB or 512MiB, got {value!r}")
    return value


def check_environment() -> None:
    """Every setting the environment gives, checked before a command does anything: a bad one
    is a configuration error (exit code 2) naming the variable, not a step that fails later
    (k as the build starts, the retention period after publishing)."""
    from token_ledger.land.fields import earliest_sql
    from token_ledger.retention import retention_days

    env_name(), min_group_size(), memory_limit(), retention_days(), earliest_sql()
    target = os.environ.get("TOKEN_LEDGER_TARGET", "dev")
    if target not in TARGETS:
        raise LedgerError(f"TOKEN_LEDGER_TARGET must be one of {', '.join(TARGETS)} (profiles.yml), got {target!r}")
