"""`token-ledger generate`: a synthetic organisation and its LLM usage, deterministic per seed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np

from token_ledger.errors import LedgerError
from token_ledger.generate.org import build_org
from token_ledger.generate.usage import PROFILES, build_usage
from token_ledger.generate.writer import EXTENSIONS, prepare, write_canonical_day, write_people
from token_ledger.progress import bar

DEFAULT_START = dt.date(2026, 10, 1)
CANONICAL_FORMATS = tuple(EXTENSIONS)


@dataclass(frozen=True)
class Generated:
    files: list[Path]
    people: Path
    events: int


def generate(
    out: Path,
    profile: str = "demo",
    users: int = 200,
    days: int = 31,
    start: dt.date = DEFAULT_START,
    seed: int = 42,
    fmt: str = "canonical",
    target_events: int | None = None,
) -> Generated:
    """Write usage files (one per day) and people.csv into `out`; same arguments, same bytes."""
    if profile not in PROFILES:
        raise LedgerError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    if users < 1 or days < 1:
        raise LedgerError("--users and --days must be at least 1")
    file_format = {"canonical": "jsonl", "canonical-jsonl": "jsonl", "canonical-csv": "csv",
                   "canonical-parquet": "parquet", "jsonl": "jsonl", "csv": "csv", "parquet": "parquet"}.get(fmt)
    if file_format is None:
        raise LedgerError(f"unknown --format {fmt!r} for generate")
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    org = build_org(rng, users, start, days)
    events = build_usage(rng, org.people, PROFILES[profile], start, days, target_events=target_events)

    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        prepare(con, org, events)
        files = []
        progress = bar("generate", days)
        for day in range(days):
            files.append(write_canonical_day(con, out, file_format, seed, start, day))
            progress.update(1)
        progress.close()
        people = write_people(con, org, out)
    finally:
        con.close()
    return Generated(files=files, people=people, events=len(events))
