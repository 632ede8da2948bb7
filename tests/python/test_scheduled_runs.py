"""A month of hourly files picked up by scheduled runs, with a poison pill every few hours: the
incremental history equals a full refresh and the published marts equal one clean run (its own
module, so that pytest-xdist can run it beside the other operations tests)."""

from __future__ import annotations

import json
from pathlib import Path

from browser import assert_dashboard_equals_marts
from conftest import query, run_cli
from operations import ENV, OperationsMonth, hourly_files, marts

PLANTED = "planted.person@corp.example"
# inputs that never change the facts: each is skipped, quarantined or ignored as a replay
PILLS = {
    "empty.jsonl": lambda previous: b"",
    "garbage.jsonl": lambda previous: f"garbage {PLANTED}\n".encode() + b'{"note": "\xff\xfe"}\n',
    "clock.jsonl": lambda previous: json.dumps({
        "request_id": "pill-clock", "occurred_at": "9999-12-31T00:00:00Z", "provider": "anthropic",
        "model": "claude-sonnet-4-6", "user_email": PLANTED, "input_tokens": 1, "output_tokens": 1}).encode() + b"\n",
    "replay.jsonl": lambda previous: previous.read_bytes() + b"\n",  # an hour re-sent (another digest)
    "unknown.jsonl": lambda previous: json.dumps({"hello": PLANTED}).encode() + b"\n",
    "overflow.jsonl": lambda previous: json.dumps({
        "request_id": "pill-overflow", "occurred_at": "2026-01-01T00:00:00Z", "provider": "anthropic",
        "model": "claude-sonnet-4-6", "user_email": PLANTED, "input_tokens": 10**16, "output_tokens": 1}).encode()
        + b"\n",
}


def _pill(n: int, previous: Path, folder: Path) -> Path:
    name, write = list(PILLS.items())[n % len(PILLS)]
    path = folder / f"pill-{n:02d}-{name}"
    path.write_bytes(write(previous))
    return path


def test_a_month_of_scheduled_runs_over_hourly_files_equals_a_full_refresh(
        ops_month: OperationsMonth, tmp_path: Path) -> None:
    """A month of hourly files (one per hour with usage, about 400) picked up by scheduled runs:
    one `run` per hour for the last hour of the first day and the first of the second, each
    publishing, with a pill beside the second; then one landing and build per 200 files with
    two pills each (so days are split across runs and rebuilt as they fill up), one hour held
    back and delivered last. Those builds run the models without the data tests (those run at
    the end): the incremental state is what is under test."""
    home, pills = tmp_path / "home", tmp_path / "pills"
    pills.mkdir()
    hourly = hourly_files(ops_month.days, tmp_path / "hourly")
    days = sorted({f.name[6:16] for f in hourly})  # usage-YYYY-MM-DDTHH.jsonl; hours without usage have no file
    assert len(days) == 30
    late = hourly[len(hourly) // 3]
    on_time = [f for f in hourly if f != late]
    midnight = next(i for i, f in enumerate(on_time) if f.name[6:16] == days[1])  # the first file of day 2
    run_cli(home, "land", str(ops_month.people), env=ENV)
    run_cli(home, "land", *map(str, on_time[:midnight - 1]), env=ENV)
    for n, hour in enumerate(on_time[midnight - 1:midnight + 1]):  # hourly runs, each publishing
        files = [hour, *([_pill(1, on_time[midnight - 1], pills)] if n else [])]
        result = run_cli(home, "run", *map(str, files), env=ENV)
        assert "published" in result.out and "planted" not in result.out + result.err
    chunks = [on_time[start:start + 200] for start in range(midnight + 1, len(on_time), 200)]
    for n, files in enumerate([*chunks, [late]], start=1):  # two pills each: every kind is landed
        two = [_pill(2 * n + i, files[0], pills) for i in (0, 1)]
        result = run_cli(home, "land", *map(str, files), *map(str, two), env=ENV)
        assert "planted" not in result.out + result.err
        run_cli(home, "build", "--", "--exclude", "resource_type:test", "resource_type:unit_test", env=ENV)
    # every pill is accounted for: skipped (empty), quarantined, or ignored as replays
    quarantined = {Path(f).name.split("-", 2)[2] for (f,) in query(
        home / "token_ledger.duckdb", "select distinct file_path from raw.quarantine")}
    assert quarantined == {"garbage.jsonl", "clock.jsonl", "unknown.jsonl", "overflow.jsonl"}
    facts = ["select * exclude (source_loaded_at) from restricted.fct_usage_events order by event_id",
             "select * exclude (source_loaded_at) from restricted.fct_person_usage_daily order by all"]
    incremental = [query(home / "token_ledger.duckdb", sql) for sql in facts]
    run_cli(home, "build", "--", "--full-refresh", env=ENV)
    full = [query(home / "token_ledger.duckdb", sql) for sql in facts]
    assert incremental == full
    run_cli(home, "validate", env=ENV)
    run_cli(home, "publish", env=ENV)
    assert marts(home) == ops_month.reference


def test_a_day_rebuilt_to_nothing_keeps_none_of_its_old_rows(tmp_path: Path) -> None:
    """k = 2. Anthropic's usage report (tests/fixtures, EXPECTED.md) bills keys of T-PLATFORM and
    T-DATA on 1 October and of T-DATA on the 2nd: usage of no person, each team published as
    itself. Then cy of T-DATA makes a request on the 2nd. Worked by hand from docs/privacy.md:
    that day T-DATA and its cost centre had nobody before the day, so it goes to other/other,
    which has cy alone: withheld, and the 2nd publishes nothing at all. The 1st stays as it was
    (T-DATA had no person yet that day). The hourly run agrees with a full refresh."""
    home, k2 = tmp_path / "home", {"TOKEN_LEDGER_MIN_GROUP_SIZE": "2"}
    people = tmp_path / "people.csv"
    people.write_text("email,full_name,employee_id,team_id,team_name,cost_center,manager_email,valid_from\n"
                      "ada@corp.example,Ada Example,E1,T-PLATFORM,Platform,CC-ENG,,2025-01-01\n"
                      "cy@corp.example,Cy Example,E3,T-DATA,Data,CC-DATA,,2025-01-01\n")
    fixtures = Path(__file__).parents[1] / "fixtures"
    run_cli(home, "run", str(people), str(fixtures / "anthropic-usage-report"), str(fixtures / "api-key-owners"),
            env=k2)
    published = "select distinct usage_date::varchar, team_id from fct_usage_daily order by all"
    days = [("2025-10-01", "T-DATA"), ("2025-10-01", "T-PLATFORM")]
    assert query(home / "analytics.duckdb", published) == [*days, ("2025-10-02", "T-DATA")]
    assert_dashboard_equals_marts(home, tmp_path / "browser")  # two days on its charts' axes

    request = tmp_path / "cy.jsonl"
    request.write_text(json.dumps({
        "request_id": "cy-1", "occurred_at": "2025-10-02T12:00:00Z", "provider": "anthropic",
        "model": "claude-opus-4-1-20250805", "user_email": "cy@corp.example", "input_tokens": 10,
        "output_tokens": 5}) + "\n")
    run_cli(home, "run", str(request), env=k2)  # the build's k test failed on the 2nd's old rows
    assert query(home / "analytics.duckdb", published) == days
    incremental = query(home / "token_ledger.duckdb", "select * from marts.fct_usage_daily order by all")
    run_cli(home, "build", "--", "--full-refresh", env=k2)
    assert query(home / "token_ledger.duckdb", "select * from marts.fct_usage_daily order by all") == incremental
