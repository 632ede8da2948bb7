"""A small, steady organisation month written as canonical records, with planted events."""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
from pathlib import Path

START = dt.date(2026, 10, 1)
TEAMS = {"T-ALPHA": "CC-ONE", "T-BETA": "CC-TWO"}
PEOPLE = [(f"member{i:02d}@steady.example", "T-ALPHA" if i < 6 else "T-BETA") for i in range(12)]
SPIKER = PEOPLE[2][0]
SPIKE_DAYS = (dt.date(2026, 10, 20), dt.date(2026, 10, 21))
SWITCH_FROM = dt.date(2026, 10, 26)
CACHE_MISS_DAY = dt.date(2026, 10, 29)


def write_directory(folder: Path) -> None:
    with (folder / "people.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "full_name", "employee_id", "team_id", "team_name", "cost_center", "manager_email",
                         "valid_from"])
        for i, (email, team) in enumerate(PEOPLE):
            writer.writerow([email, f"Member {i}", f"EMP-9{i:04d}", team, team, TEAMS[team], "", "2025-01-01"])


def records(day: dt.date, planted: bool, rng: random.Random) -> list[dict]:
    rows = []
    weekend = day.weekday() >= 5
    for person, (email, team) in enumerate(PEOPLE):
        count = 2 if weekend else 20
        if planted and email == SPIKER and day in SPIKE_DAYS:
            count *= 20
        model = "claude-haiku-4-5" if team == "T-BETA" else "claude-sonnet-4-6"
        if planted and team == "T-BETA" and day >= SWITCH_FROM:
            model = "claude-opus-4-7"
        for n in range(count):
            cache_read = int(150000 * rng.uniform(0.9, 1.1))
            uncached = int(300 * rng.uniform(0.9, 1.1))
            if planted and team == "T-ALPHA" and day == CACHE_MISS_DAY:
                uncached, cache_read = uncached + cache_read, 0
            rows.append({
                "request_id": f"req_steady_{day.isoformat()}_{person:02d}_{n:04d}",
                "occurred_at": f"{day.isoformat()}T{9 + n % 9:02d}:{n % 60:02d}:00Z",
                "provider": "anthropic", "model": model, "user_email": email, "application": "claude-code",
                "input_tokens": uncached, "output_tokens": int(1500 * rng.uniform(0.9, 1.1)),
                "cache_read_tokens": cache_read, "cache_write_5m_tokens": int(5000 * rng.uniform(0.9, 1.1)),
            })
    return rows


def write_month(folder: Path, planted: bool, days: int = 31) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    write_directory(folder)
    rng = random.Random(20261001)
    files = []
    for offset in range(days):
        day = START + dt.timedelta(days=offset)
        path = folder / f"usage-{day.isoformat()}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in records(day, planted, rng)), encoding="utf-8")
        files.append(path)
    return files
