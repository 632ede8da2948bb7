"""What the generated usage bought: Claude Code outcome metrics (OTLP/JSON), the Claude Code
analytics report, and GitHub Copilot's users-1-day report, for `generate --outcomes`.

Outcomes follow each person's own productivity, drawn independently of their spend: teams
that spend more do not necessarily ship more. The analytics report covers the first two
thirds of the days (a report lags); OpenTelemetry covers every day, with sessions counted the
way the metrics count them, so the report's precedence shows where the two overlap.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

COPILOT_SHARE = 0.5  # people with a GitHub login who use Copilot
CREDITS_PER_ACTIVITY = 0.05


def github_login(email: str) -> str:
    return email.split("@")[0].replace(".", "-") + "-gh"


def copilot_people(people: pd.DataFrame, seed: int) -> set[int]:
    rng = np.random.default_rng(seed + 2)
    return {int(p) for p in people["person"] if rng.random() < COPILOT_SHARE}


def _nanos(moment: dt.datetime) -> str:
    return str(int(moment.replace(tzinfo=dt.UTC).timestamp()) * 10**9)


def _attribute(key: str, value: str) -> dict:
    return {"key": key, "value": {"stringValue": value}}


def _metrics_line(email: str, day: dt.date, row: pd.Series) -> str:
    start = dt.datetime.combine(day, dt.time(0))
    end = dt.datetime.combine(day, dt.time(23))

    def point(value: float | int, *extra: dict) -> dict:
        number = {"asDouble": float(value)} if isinstance(value, float) else {"asInt": str(int(value))}
        return {"attributes": [_attribute("user.email", email), *extra], "startTimeUnixNano": _nanos(start),
                "timeUnixNano": _nanos(end), **number}

    def metric(name: str, unit: str, *points: dict) -> dict:
        return {"name": name, "unit": unit, "sum": {"aggregationTemporality": 1, "isMonotonic": True,
                                                     "dataPoints": list(points)}}

    metrics = [
        metric("claude_code.session.count", "count", point(row.sessions)),
        metric("claude_code.commit.count", "count", point(row.commits)),
        metric("claude_code.pull_request.count", "count", point(row.pull_requests)),
        metric("claude_code.lines_of_code.count", "count", point(row.lines_added, _attribute("type", "added")),
               point(row.lines_removed, _attribute("type", "removed"))),
        metric("claude_code.code_edit_tool.decision", "count",
               point(row.edits_accepted, _attribute("decision", "accept"), _attribute("tool", "Edit")),
               point(row.edits_rejected, _attribute("decision", "reject"), _attribute("tool", "Edit"))),
        metric("claude_code.active_time.total", "s", point(float(row.active_seconds))),
    ]
    return json.dumps({"resourceMetrics": [{"resource": {"attributes": [_attribute("service.name", "claude-code")]},
                                            "scopeMetrics": [{"scope": {"name": "com.anthropic.claude_code"},
                                                              "metrics": metrics}]}]}, separators=(",", ":"))


def _report_row(email: str, day: dt.date, row: pd.Series) -> dict:
    accepted_write = int(row.edits_accepted) // 4
    return {
        "date": day.isoformat(), "actor": {"type": "user_actor", "email_address": email},
        "organization_id": "org-demo", "customer_type": "api", "terminal_type": "vscode",
        "core_metrics": {"num_sessions": int(row.sessions),
                         "lines_of_code": {"added": int(row.lines_added), "removed": int(row.lines_removed)},
                         "commits_by_claude_code": int(row.commits),
                         "pull_requests_by_claude_code": int(row.pull_requests)},
        "tool_actions": {"edit_tool": {"accepted": int(row.edits_accepted) - accepted_write,
                                       "rejected": int(row.edits_rejected)},
                         "write_tool": {"accepted": accepted_write, "rejected": 0},
                         "multi_edit_tool": {"accepted": 0, "rejected": 0},
                         "notebook_edit_tool": {"accepted": 0, "rejected": 0}},
        "model_breakdown": [],
    }


def write_outcomes(con: duckdb.DuckDBPyConnection, people: pd.DataFrame, out: Path, seed: int, start: dt.date,
                   days: int) -> list[Path]:
    """Outcome files under `out/outcomes/` for the generated Claude Code usage and Copilot users."""
    folder = out / "outcomes"
    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(seed + 1)
    productivity = rng.lognormal(0.0, 0.7, int(people["person"].max()) + 1)
    person_days = con.execute(
        """
        select e.person, p.email, e.day, count(*) as requests, count(distinct e.session_n) as sessions
        from events_with_sessions as e inner join people as p on p.person = e.person
        where e.application = 'claude-code'
        group by all order by e.day, e.person
        """
    ).df()
    n = len(person_days)
    rate = productivity[person_days["person"].to_numpy()]
    person_days["commits"] = rng.poisson(1.2 * rate, n)
    person_days["pull_requests"] = rng.binomial(person_days["commits"], 0.35)
    person_days["lines_added"] = rng.poisson(40 * rate * (person_days["commits"] + 1))
    person_days["lines_removed"] = rng.binomial(person_days["lines_added"], 0.3)
    person_days["edits_accepted"] = rng.poisson(6 * rate, n)
    person_days["edits_rejected"] = rng.poisson(1.5, n)
    person_days["active_seconds"] = (person_days["requests"] * rng.uniform(15, 45, n)).round(1)
    files, covered = [], days * 2 // 3
    report = []
    for day_index, rows in person_days.groupby("day"):
        day = start + dt.timedelta(days=int(day_index))
        path = folder / f"claude-code-metrics-{day.isoformat()}.jsonl"
        path.write_text("\n".join(_metrics_line(r.email, day, r) for r in rows.itertuples()) + "\n", encoding="utf-8")
        files.append(path)
        if day_index < covered:
            report += [_report_row(r.email, day, r) for r in rows.itertuples()]
    pages = [report[i:i + 1000] for i in range(0, len(report), 1000)] or [[]]
    path = folder / "claude-code-analytics.json"
    path.write_text(json.dumps([{"data": page, "has_more": i < len(pages) - 1,
                                 "next_page": f"page_{i + 2}" if i < len(pages) - 1 else None}
                                for i, page in enumerate(pages)]) + "\n", encoding="utf-8")
    files.append(path)
    files += _write_copilot(people, folder, rng, seed, start, days)
    return files


def _write_copilot(people: pd.DataFrame, folder: Path, rng: np.random.Generator, seed: int, start: dt.date,
                   days: int) -> list[Path]:
    users = people[people["person"].isin(copilot_people(people, seed))]
    files = []
    for day_index in range(days):
        day = start + dt.timedelta(days=day_index)
        active = users[rng.random(len(users)) < (0.75 if day.weekday() < 5 else 0.1)]
        lines = []
        for person in active.itertuples():
            generated = int(rng.poisson(18))
            accepted = int(rng.binomial(generated, 0.3))
            added = accepted * int(rng.integers(2, 9))
            uses_cli = bool(rng.random() < 0.3)
            row = {"day": day.isoformat(), "user_id": 10_000 + int(person.person),
                   "user_login": github_login(person.email), "user_initiated_interaction_count": generated // 3,
                   "code_generation_activity_count": generated, "code_acceptance_activity_count": accepted,
                   "loc_suggested_to_add_sum": added * 3, "loc_suggested_to_delete_sum": added // 2,
                   "loc_added_sum": added, "loc_deleted_sum": added // 4, "used_agent": False, "used_chat": True,
                   "used_cli": uses_cli}
            if uses_cli:
                sessions = int(rng.integers(1, 4))
                row["totals_by_cli"] = {"session_count": sessions, "request_count": sessions * 6, "token_usage": {
                    "prompt_tokens_sum": int(rng.integers(2_000, 40_000)),
                    "output_tokens_sum": int(rng.integers(500, 8_000))}}
            row["ai_credits_used"] = round(generated * CREDITS_PER_ACTIVITY, 2)
            lines.append(json.dumps(row))
        if lines:
            path = folder / f"copilot-users-1-day-{day.isoformat()}.ndjson"
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            files.append(path)
    return files
