"""`token-ledger generate`: a synthetic organisation and its LLM usage, deterministic per seed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np

from token_ledger import warehouse
from token_ledger.errors import LedgerError
from token_ledger.generate import sources
from token_ledger.generate.org import build_org
from token_ledger.generate.outcomes import copilot_people, github_login, write_outcomes
from token_ledger.generate.usage import PROFILES, build_usage
from token_ledger.generate.writer import prepare, write_canonical_day, write_people
from token_ledger.progress import bar

DEFAULT_START = dt.date(2026, 10, 1)
CANONICAL_FORMATS = {"canonical": "jsonl", "canonical-jsonl": "jsonl", "canonical-csv": "csv",
                     "canonical-parquet": "parquet", "jsonl": "jsonl", "csv": "csv", "parquet": "parquet"}
SOURCE_FORMATS = ("claude-code-otel", "claude-code-jsonl", "litellm-spendlogs", "anthropic-usage-report",
                  "openai-usage")


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
    outcomes: bool = False,
    bills: bool = False,
    mispriced_bill: bool = False,
) -> Generated:
    """Write usage files (one per day) and people.csv into `out`; same arguments, same bytes.
    With `outcomes`, also what the Claude Code usage bought and Copilot's report (`outcomes/`),
    and the directory's GitHub logins. With `bills`, what Anthropic and OpenAI bill for the usage
    (`bills/`), overcharging one model-day with `mispriced_bill`."""
    if profile not in PROFILES:
        raise LedgerError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    if users < 1 or days < 1:
        raise LedgerError("--users and --days must be at least 1")
    file_format = CANONICAL_FORMATS.get(fmt)
    if file_format is None and fmt not in SOURCE_FORMATS:
        choices = ", ".join([*CANONICAL_FORMATS, *SOURCE_FORMATS])
        raise LedgerError(f"unknown --format {fmt!r} for generate; choose one of {choices}")
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    org = build_org(rng, users, start, days)
    events = build_usage(rng, org.people, PROFILES[profile], start, days, target_events=target_events)

    con = warehouse.connect()
    try:
        prepare(con, org, events)
        if file_format:
            files = []
            progress = bar("generate", days)
            for day in range(days):
                files.append(write_canonical_day(con, out, file_format, seed, start, day))
                progress.update(1)
            progress.close()
        else:
            files = _write_source_format(con, out, fmt, seed, start, days)
        if bills or mispriced_bill:
            files += sources.write_bills(con, out, start, mispriced_bill)
        logins = {}
        if outcomes:
            files += write_outcomes(con, org.people, out, seed, start, days)
            chosen = copilot_people(org.people, seed)
            logins = {email: github_login(email) for person, email in zip(org.people["person"], org.people["email"],
                                                                           strict=True) if int(person) in chosen}
        people = write_people(con, org, out, logins)
    finally:
        con.close()
    return Generated(files=files, people=people, events=len(events))


def _write_source_format(con: duckdb.DuckDBPyConnection, out: Path, fmt: str, seed: int, start: dt.date,
                         days: int) -> list[Path]:
    sources.create_base(con, seed, start)
    if fmt == "claude-code-otel":
        return sources.write_otel(con, out, start, days)
    if fmt == "claude-code-jsonl":
        return sources.write_transcripts(con, out)
    if fmt == "litellm-spendlogs":
        return sources.write_litellm(con, out, start, days)
    if fmt == "anthropic-usage-report":
        return [*sources.write_anthropic_report(con, out, start, days), sources.write_key_owners(con, out)]
    return [*sources.write_openai_usage(con, out, start, days), sources.write_key_owners(con, out)]
