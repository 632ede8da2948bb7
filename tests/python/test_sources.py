"""Real source formats: hand-worked fixtures, generated volumes, and no double counting."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import query, run_cli
from sources import (
    KINDS,
    anthropic_report_totals,
    litellm_totals,
    openai_usage_totals,
    otel_totals,
    transcript_totals,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture(autouse=True)
def _every_group_published(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests check what is read, priced and counted, against totals worked by hand over a few
    people: k = 1 publishes every group (the k rules have their own tests in test_privacy.py)."""
    monkeypatch.setenv("TOKEN_LEDGER_MIN_GROUP_SIZE", "1")
TOTALS_SQL = """
    select sum(requests), sum(input_tokens), sum(output_tokens), sum(cache_read_tokens),
           sum(cache_write_5m_tokens), sum(cache_write_1h_tokens), count(distinct user_email)
    from {table} {where}
"""


def totals(home: Path, where: str = "") -> tuple:
    return query(home / "token_ledger.duckdb", TOTALS_SQL.format(table="restricted.fct_usage_events", where=where))[0]


def published_totals(home: Path) -> tuple:
    return query(home / "analytics.duckdb",
                 "select sum(requests), sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), "
                 "sum(cache_write_5m_tokens), sum(cache_write_1h_tokens) from fct_usage_daily")[0]


def quarantine(home: Path) -> dict[tuple[str, int], str]:
    rows = query(home / "token_ledger.duckdb", "select file_path, line_number, reason from raw.quarantine")
    return {(Path(f).name, line): reason for f, line, reason in rows}


def test_claude_code_otel_fixture(tmp_path: Path) -> None:
    home = tmp_path / "home"
    run_cli(home, "land", str(FIXTURES / "people"))  # a team a source names counts if the directory has it
    result = run_cli(home, "run", str(FIXTURES / "claude-code-otel"))
    assert "landed 3 records" in result.out and "quarantined 2 records" in result.out and "ignored 2" in result.out
    # EXPECTED.md: 3 requests; input 2300; output 1370; cache read 100000; cache write 3500; 2 people
    assert totals(home) == (3, 2300, 1370, 100000, 3500, 0, 2)
    assert published_totals(home) == (3, 2300, 1370, 100000, 3500, 0)
    assert quarantine(home) == {("collector-export.jsonl", 2): "field 'input_tokens' is negative",
                                ("collector-export.jsonl", 3): "invalid JSON"}
    assert query(home / "token_ledger.duckdb", "select team_id, cost_center, reported_cost_usd "
                 "from restricted.fct_usage_events where request_id = 'req_otel_0001'") == [
        ("T-PLATFORM", "CC-ENG", Decimal("0.02961"))]


def test_claude_code_transcript_fixture(tmp_path: Path) -> None:
    home = tmp_path / "home"
    missing = run_cli(home, "land", str(FIXTURES / "claude-code-jsonl"), check=False)
    assert missing.code != 0 and "--user" in missing.err
    result = run_cli(home, "run", "--user", "alice.smith@corp.example", str(FIXTURES / "claude-code-jsonl" / "alice"))
    assert "quarantined 1 records" in result.out
    # EXPECTED.md: 3 requests; input 20; output 1300; cache read 72000; 5m 13500; 1h 2000; 1 person
    assert totals(home) == (3, 20, 1300, 72000, 13500, 2000, 1)
    assert published_totals(home) == (3, 20, 1300, 72000, 13500, 2000)
    assert quarantine(home) == {("session-a.jsonl", 6): "field 'input_tokens' is not a whole number"}


def test_streamed_transcript_messages_count_once_at_their_largest_usage(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = run_cli(home, "run", "--user", "bob.jones@corp.example", str(FIXTURES / "claude-code-jsonl" / "bob"))
    assert "landed 3 records" in result.out and "ignored 8 records" in result.out  # 5 repeats, 3 user lines
    # EXPECTED.md (bob/), and ccusage 20.0.24 on the same files: 3 requests; input 10; output 902;
    # cache read 63000; 5m 1000; 1h 800; 1 person
    assert totals(home) == (3, 10, 902, 63000, 1000, 800, 1)
    assert published_totals(home) == (3, 10, 902, 63000, 1000, 800)


def test_litellm_spendlogs_fixture(tmp_path: Path) -> None:
    home = tmp_path / "home"
    run_cli(home, "run", str(FIXTURES / "litellm-spendlogs"))
    # EXPECTED.md: 3 requests; input 3600; output 920; cache read 8500; cache write 4000; 2 people
    assert totals(home) == (3, 3600, 920, 8500, 4000, 0, 2)
    assert published_totals(home) == (3, 3600, 920, 8500, 4000, 0)
    assert quarantine(home) == {("spendlogs.csv", 6): "field 'starttime' is not an ISO-8601 timestamp"}
    models = dict(query(home / "token_ledger.duckdb",
                        "select request_id, model_id from restricted.fct_usage_events"))
    assert models == {"chatcmpl-001": "gpt-4.1", "chatcmpl-003": "claude-sonnet-4-5",
                      "chatcmpl-004": "gemini-2.5-flash"}


def test_anthropic_usage_report_fixture(tmp_path: Path) -> None:
    home = tmp_path / "home"
    run_cli(home, "land", str(FIXTURES / "people"))
    run_cli(home, "run", str(FIXTURES / "anthropic-usage-report"), str(FIXTURES / "api-key-owners"))
    # EXPECTED.md: input 4800; output 2220; cache read 120000; 5m 4000; no request counts
    assert totals(home) == (0, 4800, 2220, 120000, 4000, 0, 0)
    assert published_totals(home) == (0, 4800, 2220, 120000, 4000, 0)
    assert quarantine(home) == {("page-2.json", 2): "field 'uncached_input_tokens' is negative"}
    teams = dict(query(home / "token_ledger.duckdb",
                       "select team_id, sum(input_tokens) from restricted.fct_usage_events group by 1"))
    assert teams == {"T-PLATFORM": 2500 + 800, "T-DATA": 500 + 1000}


def test_openai_usage_fixture(tmp_path: Path) -> None:
    home = tmp_path / "home"
    run_cli(home, "land", str(FIXTURES / "people"))
    run_cli(home, "run", str(FIXTURES / "openai-usage"), str(FIXTURES / "api-key-owners"))
    # EXPECTED.md: uncached input 24000; cache read 1000; output 4900; 52 requests; grace by user id
    assert totals(home) == (52, 24000, 4900, 1000, 0, 0, 1)
    assert published_totals(home) == (52, 24000, 4900, 1000, 0, 0)
    assert quarantine(home) == {("page-1.json", 3): "input_cached_tokens exceeds input_tokens"}
    owners = set(query(home / "token_ledger.duckdb",
                       "select user_email, team_id, service_tier from restricted.fct_usage_events"))
    # T-RESEARCH is not a directory team: a label a source supplies is published only as a directory team
    assert owners == {("grace.hopper@corp.example", "unattributed", "standard"), (None, "unknown", "batch")}


BILL_ROWS = ("select usage_date, model_id, billed_cost_usd, computed_cost_usd, is_flagged from rpt_cost_reconciliation "
             "where billed_cost_usd is not null order by 1, 2")


def test_anthropic_cost_report_fixture(tmp_path: Path) -> None:
    home = tmp_path / "home"
    run_cli(home, "land", str(FIXTURES / "people"))
    run_cli(home, "run", str(FIXTURES / "anthropic-usage-report"), str(FIXTURES / "api-key-owners"))
    run_cli(home, "run", str(FIXTURES / "anthropic-cost-report"))  # the bill comes days later
    assert quarantine(home)[("page-1.json", 10)] == "field 'amount' is not a number (up to 9 decimals, below 1e9)"
    # EXPECTED.md: the bill against the usage priced by hand; Haiku's output billed 0.08 cents, not 0.06
    assert query(home / "analytics.duckdb", BILL_ROWS) == [
        (dt.date(2025, 10, 1), "claude-haiku-4-5", Decimal("0.0016"), Decimal("0.0014"), True),
        (dt.date(2025, 10, 1), "claude-sonnet-4-5", Decimal("0.084"), Decimal("0.084"), False),
        (dt.date(2025, 10, 2), "claude-opus-4-1", Decimal("0.02625"), Decimal("0.02625"), False),
    ]
    alerts = [json.loads(line) for f in (home / "alerts").glob("*.jsonl") for line in f.read_text().splitlines()]
    assert [(a["usage_date"], a["model_id"]) for a in alerts if a["kind"] == "bill_mismatch"] == [
        ("2025-10-01", "claude-haiku-4-5")]
    # the days already built are rebuilt with the bill: FOCUS BilledCost is what Anthropic billed
    focus = query(home / "analytics.duckdb", 'select cast("ChargePeriodStart" as date), "SkuId", sum("BilledCost"), '
                  'bool_and("x_BilledByProvider") from fct_focus_costs group by 1, 2 order by 1, 2')
    assert focus == [(dt.date(2025, 10, 1), "claude-haiku-4-5", Decimal("0.0016"), True),
                     (dt.date(2025, 10, 1), "claude-sonnet-4-5", Decimal("0.084"), True),
                     (dt.date(2025, 10, 2), "claude-opus-4-1", Decimal("0.02625"), True)]


def test_openai_costs_fixture(tmp_path: Path) -> None:
    home = tmp_path / "home"
    run_cli(home, "land", str(FIXTURES / "people"))
    run_cli(home, "run", str(FIXTURES / "openai-usage"), str(FIXTURES / "api-key-owners"),
            str(FIXTURES / "openai-costs"))
    # EXPECTED.md: gpt-4.1 0.0157; gpt-4.1-mini batch at half price 0.0072; web search not a token cost
    assert query(home / "analytics.duckdb", BILL_ROWS) == [
        (dt.date(2025, 10, 3), "gpt-4.1", Decimal("0.0157"), Decimal("0.0157"), False),
        (dt.date(2025, 10, 3), "gpt-4.1-mini", Decimal("0.0072"), Decimal("0.0072"), False),
    ]


def test_report_and_events_for_the_same_traffic_count_once(tmp_path: Path) -> None:
    home = tmp_path / "home"
    run_cli(home, "run", str(FIXTURES / "claude-code-otel"), str(FIXTURES / "anthropic-usage-report"),
            str(FIXTURES / "api-key-owners"))
    # the marts' total is the report's total ...
    assert totals(home)[1:5] == (4800, 2220, 120000, 4000)
    assert published_totals(home)[1:5] == (4800, 2220, 120000, 4000)
    # ... and the part attributed to people is the events' total
    assert totals(home, "where source_format = 'claude-code-otel'") == (3, 2300, 1370, 100000, 3500, 0, 2)
    rows = query(home / "analytics.duckdb", "select usage_date, model_id, report_tokens, attributed_tokens, "
                 "remainder_tokens, unreported_tokens from rpt_provider_reconciliation order by 1, 2")
    sonnet_report = 3000 + 1600 + 120000 + 4000
    sonnet_events = 1500 + 1250 + 100000 + 3500
    assert [tuple(map(str, r)) for r in rows] == [tuple(map(str, r)) for r in [
        ("2025-10-01", "claude-haiku-4-5", 920, 920, 0, 0),
        ("2025-10-01", "claude-sonnet-4-5", sonnet_report, sonnet_events, sonnet_report - sonnet_events, 0),
        ("2025-10-02", "claude-opus-4-1", 1500, 0, 1500, 0),
    ]]


def test_auto_detects_every_format(tmp_path: Path) -> None:
    home = tmp_path / "home"
    for folder in ("claude-code-otel", "litellm-spendlogs", "anthropic-usage-report", "openai-usage",
                   "api-key-owners", "anthropic-cost-report", "openai-costs"):
        run_cli(home, "land", str(FIXTURES / folder))
    run_cli(home, "land", "--user", "alice.smith@corp.example", str(FIXTURES / "claude-code-jsonl" / "alice"))
    formats = {Path(f).parent.name: fmt for f, fmt in query(
        home / "token_ledger.duckdb", "select file_path, source_format from raw.load_batches")}
    assert formats == {"claude-code-otel": "claude-code-otel", "alice": "claude-code-jsonl",
                       "litellm-spendlogs": "litellm-spendlogs", "anthropic-usage-report": "anthropic-usage-report",
                       "openai-usage": "openai-usage", "api-key-owners": "api-key-owners",
                       "anthropic-cost-report": "anthropic-cost-report", "openai-costs": "openai-costs"}


READERS = {
    "claude-code-otel": ("claude-code-otel-*.jsonl", otel_totals),
    "claude-code-jsonl": ("claude-code-jsonl/*/*.jsonl", transcript_totals),
    "litellm-spendlogs": ("litellm-spendlogs-*.csv", litellm_totals),
    "anthropic-usage-report": ("anthropic-usage-report-*.json", anthropic_report_totals),
    "openai-usage": ("openai-usage-*.json", openai_usage_totals),
}


@pytest.mark.parametrize("fmt", list(READERS))
def test_generated_source_format_lands_whole(fmt: str, tmp_path: Path) -> None:
    home, out = tmp_path / "home", tmp_path / "in"
    run_cli(home, "generate", "--out", str(out), "--users", "25", "--days", "3", "--format", fmt, "--seed", "5")
    pattern, reader = READERS[fmt]
    files = sorted(out.glob(pattern))
    assert files
    expected = reader(files)
    if fmt == "claude-code-jsonl":  # everyone's folder in one call (test_landing_bulk: the same as one per person)
        run_cli(home, "land", "--owners", str(out / "transcript-users.csv"), str(out / "claude-code-jsonl"))
        run_cli(home, "land", str(out / "people.csv"))
    else:
        run_cli(home, "land", str(out))
    run_cli(home, "build")
    actual = query(home / "token_ledger.duckdb",
                   "select sum(requests), sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), "
                   "sum(cache_write_5m_tokens + cache_write_1h_tokens) from restricted.fct_usage_events")[0]
    assert dict(zip(KINDS, actual, strict=True)) == {k: expected.get(k, 0) for k in KINDS}
    assert query(home / "token_ledger.duckdb", "select count(*) from raw.quarantine") == [(0,)]
    assert query(home / "token_ledger.duckdb",
                 "select count(*) from restricted.fct_usage_events where price_status = 'unpriced'") == [(0,)]
