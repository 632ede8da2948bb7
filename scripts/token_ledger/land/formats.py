"""The input formats `land` understands: where each lands and how it is read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from token_ledger.land import readers
from token_ledger.land.fields import CANONICAL_FIELDS, PEOPLE_FIELDS, Field


@dataclass(frozen=True)
class LandingSpec:
    name: str
    table: str
    fields: list[Field]
    reader: Callable[[duckdb.DuckDBPyConnection, Path, list[Field]], list[tuple[str, str]]]
    needs_user: bool = False
    user_column: str | None = None
    identity_column: str | None = None  # erased people's records with this email never land
    ignored_sql: str | None = None
    options: dict = field(default_factory=dict)

    def read(self, con: duckdb.DuckDBPyConnection, path: Path) -> list[tuple[str, str]]:
        return self.reader(con, path, self.fields, **self.options)

    def extra_columns(self, user: str | None) -> tuple[list[str], list[str]]:
        if self.user_column:
            return [self.user_column], ["$user"]
        return [], []

    def ignored(self, con: duckdb.DuckDBPyConnection) -> int:
        return con.execute(self.ignored_sql).fetchone()[0] if self.ignored_sql else 0


def _canonical_reader(con: duckdb.DuckDBPyConnection, path: Path, fields: list[Field]) -> list[tuple[str, str]]:
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic == b"PAR1":
        return readers.parquet(con, path, fields)
    first = b""
    with path.open("rb") as handle:
        for line in handle:
            if line.strip():
                first = line.strip()
                break
    if first.startswith(b"{") or path.suffix.lower() in {".jsonl", ".ndjson", ".json"}:
        return readers.jsonl(con, path, fields)
    return readers.csv(con, path, fields)


FORMATS: dict[str, LandingSpec] = {
    "canonical": LandingSpec("canonical", "canonical_events", CANONICAL_FIELDS, _canonical_reader,
                             identity_column="user_email"),
    "people": LandingSpec("people", "people", PEOPLE_FIELDS, readers.csv, identity_column="email"),
}
