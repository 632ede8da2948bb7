"""Outcomes (CONTRACT.md section 8) on hand-worked fixtures: tests/fixtures/claude-code-analytics/EXPECTED.md."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import query, run_cli

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ENV = {"TOKEN_LEDGER_MIN_GROUP_SIZE": "2", "TOKEN_LEDGER_PSEUDONYM_KEY": "outcomes-test-key-0123456789abcdef"}
SEP, OCT, OCT2 = dt.date(2026, 9, 30), dt.date(2026, 10, 1), dt.date(2026, 10, 2)


def _request(request_id: str, email: str, at: str, input_tokens: int, output_tokens: int) -> str:
    return json.dumps({"request_id": request_id, "occurred_at": at, "provider": "anthropic",
                       "model": "claude-sonnet-4-6", "user_email": email, "application": "claude-code",
                       "input_tokens": input_tokens, "output_tokens": output_tokens})


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("outcomes")
    usage = root / "usage.jsonl"
    usage.write_text(_request("cc-1", "ada@corp.example", "2026-10-01T15:30:00Z", 1_000_000, 100_000) + "\n"
                     + _request("cc-2", "bob@corp.example", "2026-10-01T09:30:00Z", 2_000_000, 0) + "\n"
                     + _request("cc-3", "ada@corp.example", "2026-10-02T10:00:00Z", 100_000, 10_000) + "\n")
    run_cli(root / "home", "run", *(str(FIXTURES / name) for name in (
        "people", "claude-code-otel-metrics", "claude-code-analytics", "copilot-metrics")), str(usage), env=ENV)
    return root / "home"


def test_outcomes_daily_equal_the_hand_worked_rows(home: Path) -> None:
    rows = query(home / "analytics.duckdb", "select * from fct_outcomes_daily order by tool, usage_date, team_id")
    o = "other"
    u = "unattributed"
    assert rows == [
        (SEP, o, o, "claude-code", 3, 4, 4, 1, 125, 31, 6, 2, Decimal("600.5"), 330_000, Decimal("0.9675")),
        (OCT, o, o, "claude-code", 2, 3, 11, 1, 60, 10, 5, 1, Decimal(100), 3_150_000, Decimal("10.515")),
        (OCT, u, u, "claude-code", 0, 4, 1, 1, 30, 3, 2, 2, Decimal(0), 0, Decimal(0)),
        (OCT2, "T-PLATFORM", "CC-ENG", "claude-code", 1, 0, 0, 0, 0, 0, 0, 0, Decimal(0), 110_000, Decimal("0.45")),
        (OCT, u, u, "copilot", 0, 0, 0, 0, 7, 0, 1, 3, Decimal(0), 0, Decimal("0.02")),
    ]
    # Claude Code's tokens and cost in fct_usage_daily (EXPECTED.md): the three requests and ada's
    # cache reads the report adds; cy's 30 September usage (one person that day) is withheld there
    assert query(home / "analytics.duckdb", "select sum(total_tokens), sum(cost_usd) from fct_usage_daily "
                                            "where application = 'claude-code'") == [(3_260_000, Decimal("10.965"))]
    assert query(home / "analytics.duckdb", "select sum(requests) from fct_usage_daily")[0][0] == 3
    # the report's remainders join the events at the raw counts' width: a HUGEINT there would
    # widen every event of the history (1.1 s of a build of 10 M events)
    assert {r[0] for r in query(home / "token_ledger.duckdb", "select data_type from information_schema.columns "
                                "where table_name = 'fct_usage_events' and column_name like '%tokens'")} == {"BIGINT"}
    # the truncated line of the metrics export is quarantined alone
    assert query(home / "token_ledger.duckdb", "select line_number, reason from raw.quarantine") == [
        (8, "invalid JSON")]


def test_value_per_token_ratios_and_null_denominators(home: Path) -> None:
    rows = {(r[0], r[1], r[3]): r[4:] for r in query(home / "analytics.duckdb", "select * from rpt_value_per_token")}
    october = rows[(OCT, "other", "claude-code")]
    assert october[:5] == (Decimal("10.515"), 3_150_000, 11, 1, 60)
    assert october[5] == Decimal("0.955909091")  # 10.515 / 11, rounded to 9 places
    assert october[6] == Decimal("10.515")
    assert october[7] == pytest.approx(3_150_000 / 60) and october[8] == pytest.approx(5 / 6)
    assert rows[(dt.date(2026, 9, 1), "other", "claude-code")][6] == Decimal("0.9675")  # one PR (dee's)
    platform = rows[(OCT, "T-PLATFORM", "claude-code")]  # 2 October: usage, no outcome
    assert platform[:5] == (Decimal("0.45"), 110_000, 0, 0, 0) and platform[5:] == (None, None, None, None)
    copilot = rows[(OCT, "unattributed", "copilot")]
    assert copilot[5] is None and copilot[6] is None  # no commits, no PRs
    assert copilot[7] == pytest.approx(0) and copilot[8] == pytest.approx(0.25)


def test_erasing_a_person_removes_their_copilot_rows_by_login(home: Path, tmp_path: Path) -> None:
    copy = tmp_path / "home"
    copy.mkdir()
    (copy / "token_ledger.duckdb").write_bytes((home / "token_ledger.duckdb").read_bytes())
    erased = run_cli(copy, "erase", "--user", "Bob@corp.example", env=ENV)
    assert "1 from copilot_user_days" in erased.out
    # the old report landed again (new content, same rows): bob's login stays out
    again = tmp_path / "again.ndjson"
    again.write_bytes((FIXTURES / "copilot-metrics" / "users-1-day.ndjson").read_bytes() + b"\n")
    run_cli(copy, "land", str(again), env=ENV)
    assert query(copy / "token_ledger.duckdb", "select distinct lower(user_login) from raw.copilot_user_days "
                                               "order by 1") == [("cy-gh",), ("ghost-gh",)]


def test_dbt_docs_are_one_offline_file_in_the_home(home: Path) -> None:
    result = run_cli(home, "docs", env=ENV)
    page = home / "docs" / "static_index.html"
    assert str(page) in result.out
    text = page.read_text(encoding="utf-8")
    assert "fct_outcomes_daily" in text and 'src="http' not in text


def test_the_dashboard_is_one_offline_page_whose_totals_equal_the_marts(home: Path) -> None:
    """`run` wrote it after publishing; `report` rewrites it from analytics.duckdb alone."""
    page = home / "report" / "index.html"
    assert page.exists()
    result = run_cli(home, "report", env=ENV)
    assert str(page) in result.out
    text = page.read_text(encoding="utf-8")
    assert 'src="http' not in text and "<link" not in text  # the chart library is inlined: nothing to fetch
    assert "plotly" in text.lower()
    cost, tokens, requests = query(home / "analytics.duckdb",
                                   "select sum(cost_usd), sum(total_tokens), sum(requests) from fct_usage_daily")[0]
    assert f'id="total-cost" data-value="{cost}"' in text
    assert f'id="total-tokens" data-value="{tokens}"' in text and f'data-value="{requests}"' in text
    for title in ("Spend per day by provider", "Spend per day by cost centre", "against each budget",
                  "Top 10 teams", "Top 10 models", "Anomalies", "cost per pull request by team", "Leaderboard",
                  "last refreshed"):
        assert title in text, title
    assert "ada@corp.example" not in text and "Ada Example" not in text


CONTRACT_METRICS = ["cost_usd", "list_cost_usd", "total_tokens", "requests", "cost_per_request_usd", "commits",
                    "pull_requests", "cost_per_pull_request_usd"]


def test_metricflow_answers_each_contract_metric_as_sql_on_the_published_marts(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "metrics.csv"
    run_cli(home, "metrics", "--", "query", "--metrics", ",".join(CONTRACT_METRICS),
            "--group-by", "metric_time__day", "--csv", str(out), "--quiet", env=ENV)
    with out.open(encoding="utf-8") as handle:
        answered = {row["metric_time__day"][:10]: row for row in csv.DictReader(handle)}
    published = home / "analytics.duckdb"
    usage = {str(r[0]): r[1:] for r in query(published, """
        select usage_date, sum(cost_usd), sum(list_cost_usd), sum(total_tokens), sum(requests),
               sum(cost_usd) / nullif(sum(requests), 0)
        from fct_usage_daily group by 1""")}
    outcomes = {str(r[0]): r[1:] for r in query(published, """
        select usage_date, sum(commits), sum(pull_requests), sum(cost_usd) / nullif(sum(pull_requests), 0)
        from fct_outcomes_daily group by 1""")}
    assert set(answered) == set(usage) | set(outcomes) == {"2026-09-30", "2026-10-01", "2026-10-02"}
    for day, row in answered.items():
        expected = dict(zip(["cost_usd", "list_cost_usd", "total_tokens", "requests", "cost_per_request_usd"],
                            usage.get(day, [None] * 5), strict=True))
        expected |= dict(zip(["commits", "pull_requests", "cost_per_pull_request_usd"],
                             outcomes.get(day, [None] * 3), strict=True))
        for metric in CONTRACT_METRICS:
            value = row[metric]
            if expected[metric] is None:
                assert value in ("", "None", "nan"), (day, metric, value)
            else:
                assert float(value) == pytest.approx(float(expected[metric]), rel=1e-9), (day, metric)
    # the hand-worked fixture: 2 pull requests on 1 October (ada's and an unattributed one) for
    # USD 10.515 of Claude Code and USD 0.02 of Copilot (cy's 0.01, alone that day, is withheld)
    assert float(answered["2026-10-01"]["cost_per_pull_request_usd"]) == pytest.approx(10.535 / 2)
    # MetricFlow's project names the published file only, opened read-only
    profile = (home / "metrics" / "profiles.yml").read_text(encoding="utf-8")
    assert "analytics.duckdb" in profile and "token_ledger.duckdb" not in profile and "READ_ONLY" in profile
    manifest = (home / "metrics" / "target" / "semantic_manifest.json").read_text(encoding="utf-8")
    assert '"token_ledger"' not in manifest and "outcomes-test-key" not in manifest


def test_data_docs_open_offline_and_name_the_asset_and_the_run(home: Path, tmp_path: Path) -> None:
    from browser import render

    site = home / "validation" / "gx" / "uncommitted" / "data_docs" / "local_site"
    index = render(site / "index.html", "document.querySelectorAll('table tbody tr').length", tmp_path / "b1")
    assert index.console_errors == [] and index.requests == []
    assert index.value >= 5  # the validation results and suites are listed (drawn by bootstrap-table)
    run_name = query(home / "token_ledger.duckdb", "select max(run_id) from audit.run_log")[0][0]
    page = next((site / "validations" / "published_fct_usage_daily" / run_name).rglob("*.html"))
    shown = render(page, "document.body.innerText", tmp_path / "b2")
    assert shown.console_errors == [] and shown.requests == []
    assert "Data asset: published_fct_usage_daily" in shown.value and run_name in shown.value


def _attribute(key: str, value: str) -> dict:
    return {"key": key, "value": {"stringValue": value}}


def test_identities_planted_in_every_free_text_field_of_the_outcome_formats_are_not_published(
        home: Path, tmp_path: Path) -> None:
    """Each outcome format with an email, a name or a login in every field a person or a machine can
    set: none of it reaches analytics.duckdb (only directory labels, counts and catalog models)."""
    from privacy import scan

    leaky = tmp_path / "leaky"
    leaky.mkdir()
    email, name, login = "ada@corp.example", "Ada Example", "ada-gh"
    point = {"attributes": [_attribute("user.email", email), _attribute("session.id", f"session of {email}"),
                            _attribute("terminal.type", name), _attribute("team.id", email)],
             "startTimeUnixNano": "1790848800000000000", "timeUnixNano": "1790852400000000000", "asInt": "1"}
    (leaky / "leaky-metrics.jsonl").write_text(json.dumps({"resourceMetrics": [{
        "resource": {"attributes": [_attribute("service.name", f"claude-code for {email}"),
                                    _attribute("host.name", f"{name}'s laptop"), _attribute("team.id", email),
                                    _attribute("department", name)]},
        "scopeMetrics": [{"scope": {"name": f"scope of {email}"}, "metrics": [{
            "name": "claude_code.commit.count", "unit": "count",
            "sum": {"aggregationTemporality": 1, "isMonotonic": True, "dataPoints": [point]}}]}]}]}) + "\n",
        encoding="utf-8")
    (leaky / "leaky-analytics.json").write_text(json.dumps({"data": [
        {"date": "2026-10-01", "actor": {"type": "api_actor", "api_key_name": f"key of {email}"},
         "organization_id": f"org of {name}", "customer_type": email, "terminal_type": name,
         "core_metrics": {"num_sessions": 1, "lines_of_code": {"added": 1, "removed": 0},
                          "commits_by_claude_code": 0, "pull_requests_by_claude_code": 0},
         "tool_actions": {"edit_tool": {"accepted": 1, "rejected": 0}},
         "model_breakdown": [{"model": f"claude for {email}", "tokens": {
             "input": 10, "output": 10, "cache_read": 0, "cache_creation": 0},
             "estimated_cost": {"currency": "USD", "amount": 1}}]}],
        "has_more": False, "next_page": None}), encoding="utf-8")
    (leaky / "leaky-copilot.ndjson").write_text(json.dumps({
        "day": "2026-10-01", "user_id": 999, "user_login": f"{login}-{email}", "user_initiated_interaction_count": 1,
        "code_generation_activity_count": 1, "code_acceptance_activity_count": 1, "loc_suggested_to_add_sum": 1,
        "loc_suggested_to_delete_sum": 0, "loc_added_sum": 1, "loc_deleted_sum": 0, "used_agent": False,
        "used_chat": True, "used_cli": False, "ai_credits_used": 0.1,
        "totals_by_ide": [{"ide": f"{name} IDE", "code_generation_activity_count": 1}]}) + "\n", encoding="utf-8")
    copy = tmp_path / "home"
    shutil.copytree(home, copy)
    run_cli(copy, "run", str(leaky), env=ENV)
    landed = query(copy / "token_ledger.duckdb", "select count(*) from raw.quarantine")[0][0]
    assert landed == 1  # the fixture's own truncated line only: every leaky record landed
    # ... and was counted: the API key's session and the unknown login's line, unattributed; the
    # made-up model as 'unpriced'
    counted = dict(((r[0], r[1]), r[2:]) for r in query(copy / "analytics.duckdb", """
        select tool, team_id, sum(sessions), sum(lines_added) from fct_outcomes_daily
        where usage_date = date '2026-10-01' group by all"""))
    assert counted[("claude-code", "unattributed")] == (5, 31) and counted[("copilot", "unattributed")] == (0, 8)
    assert query(copy / "analytics.duckdb", "select sum(total_tokens) from fct_usage_daily "
                                            "where model_id = 'unpriced'") == [(20,)]
    assert scan(copy / "analytics.duckdb", {"t-platform"})  # the scan finds what is there
    assert scan(copy / "analytics.duckdb", {email, name, login, "corp.example", "laptop", "key of"}) == []
