"""Inputs real exports contain, each planted next to good records in a working home: `run`
lands, builds and publishes the rest, twice in a row, and never prints what a pill holds."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from conftest import query, run_cli

FIXTURES = Path(__file__).parents[1] / "fixtures"
GOOD = {"occurred_at": "2026-10-05T10:00:00Z", "provider": "anthropic", "model": "claude-sonnet-4-6",
        "user_email": "good.person@corp.example", "input_tokens": 100, "output_tokens": 50}


def _record(request_id: str, **changes: object) -> str:
    return json.dumps({"request_id": request_id, **GOOD, **changes})


def _planted(n: int) -> str:
    return f"planted.{n}@corp.example"


def _pills(drop: Path) -> dict[str, tuple[int, str | None]]:
    """Write the pills; file name -> (line, reason) each is quarantined with (None: not quarantined)."""
    drop.mkdir(parents=True)
    pages = [json.loads((FIXTURES / "anthropic-usage-report" / f"page-{n}.json").read_text()) for n in (1, 2)]
    files = {
        "empty.jsonl": b"",  # an exporter that has not written yet
        "excel.csv": ("\ufeffrequest_id,occurred_at,provider,model,user_email,input_tokens,output_tokens\n"
                      "pill-bom,2026-10-05T10:00:00Z,openai,gpt-4.1,good.person@corp.example,10,5\n").encode(),
        "empty-page.json": b'{"data": [], "has_more": false, "next_page": null}\n',
        "array-of-pages.json": json.dumps(pages).encode(),
        "unknown.jsonl": json.dumps({"hello": _planted(1)}).encode() + b"\n",
        "first-lacks-model.jsonl": "\n".join([
            json.dumps({"request_id": "pill-1", **{k: v for k, v in GOOD.items() if k != "model"},
                        "user_email": _planted(2)}), _record("pill-2")]).encode() + b"\n",
        "first-garbage.jsonl": f"garbage {_planted(3)}\n{_record('pill-3')}\n".encode(),
        "bad-utf8.jsonl": (_record("pill-4").encode() + b"\n" + b'{"request_id": "x", "note": "\xff\xfe '
                           + _planted(4).encode() + b'"}\n' + _record("pill-5").encode() + b"\n"),
        "year-9999.jsonl": (_record("pill-6", occurred_at="9999-12-31T00:00:00Z", user_email=_planted(5)) + "\n"
                            + _record("pill-7") + "\n").encode(),
        "epoch-millis.jsonl": (_record("pill-8", occurred_at="1759320000000", user_email=_planted(6)) + "\n").encode(),
        "overflow.jsonl": (_record("pill-9", output_tokens=50_000_000_000_000, user_email=_planted(7)) + "\n").encode(),
        # a report-sized count: 90 billion input tokens in one record is priced exactly
        "large.jsonl": (_record("pill-10", input_tokens=90_000_000_000) + "\n").encode(),
        "unknown-provider.jsonl": (_record("pill-11", provider="acme-llm", model="acme-1") + "\n").encode(),
        "otel-attributes-object.jsonl": json.dumps({"resourceLogs": [{"resource": {"attributes": {
            "user.email": _planted(8)}}, "scopeLogs": [{"logRecords": [{"attributes": {"user.email": _planted(8)}}]}]}]}
        ).encode() + b"\n",
    }
    for name, data in files.items():
        (drop / name).write_bytes(data)
    return {
        "unknown.jsonl": (None, "line 1 matches no known format; pass --format"),
        "first-lacks-model.jsonl": (1, "missing required field 'model'"),
        "first-garbage.jsonl": (1, "invalid JSON"),
        "bad-utf8.jsonl": (2, "invalid UTF-8"),
        "year-9999.jsonl": (1, "field 'occurred_at' is outside the accepted time window (from "
                               "TOKEN_LEDGER_EARLIEST_DATE to a day after landing)"),
        "epoch-millis.jsonl": (1, "field 'occurred_at' is not an ISO-8601 timestamp"),
        "overflow.jsonl": (1, "field 'output_tokens' is out of range (at most 13 digits)"),
        "array-of-pages.json": (5, "field 'uncached_input_tokens' is negative"),
    }


def test_poison_pills_never_stop_the_warehouse(tmp_path: Path) -> None:
    home, inputs = tmp_path / "home", tmp_path / "input"
    run_cli(home, "generate", "--out", str(inputs), "--users", "40", "--days", "3", "--seed", "11")
    expected = _pills(inputs / "drop")
    first = run_cli(home, "run", str(inputs))
    second = run_cli(home, "run", str(inputs))  # the pills again: nothing fails, nothing lands twice
    assert "skipped 0 files" not in second.out and "landed 0 records" in second.out
    for result in (first, second):
        assert "planted" not in result.out + result.err
        assert "Traceback" not in result.out + result.err

    db = home / "token_ledger.duckdb"
    quarantined = {(Path(f).name, line): reason for f, line, reason in query(
        db, "select file_path, line_number, reason from raw.quarantine")}
    assert {k: v for k, v in quarantined.items() if k[0] in expected} == {
        (name, line): reason for name, (line, reason) in expected.items()}
    # every good record beside a pill is in the facts and the published file
    landed = {r[0] for r in query(db, "select request_id from restricted.fct_usage_events "
                                      "where request_id like 'pill-%'")}
    assert landed == {"pill-bom", "pill-2", "pill-3", "pill-4", "pill-5", "pill-7", "pill-10", "pill-11"}
    private = query(db, "select sum(requests), sum(total_tokens) from restricted.fct_usage_events")[0]
    published = query(home / "analytics.duckdb", "select sum(requests), sum(total_tokens) from fct_usage_daily")
    assert published[0] == private
    # Sonnet at $3 / $15 per million input / output tokens: 90e9 × 3 / 1e6 + 50 × 15 / 1e6, exactly
    assert query(db, "select cost_usd from restricted.fct_usage_events where request_id = 'pill-10'") == [
        (Decimal("270000.00075"),)]
    # an unknown provider lands unpriced and is listed, never an error
    assert query(db, "select price_status from restricted.fct_usage_events where request_id = 'pill-11'") == [
        ("unpriced",)]
    # the array of pages landed both pages' results (EXPECTED.md: 5, one of them negative); the empty
    # page and the empty file nothing
    assert query(db, "select count(*) from raw.anthropic_usage_report") == [(4,)]
    assert "1 empty files skipped" in first.out
    # each file with quarantined records raises one alert (batch and reasons, no content), and so
    # does the model the catalog does not know; the second run sends none of them again
    alerts = [json.loads(line) for f in sorted((home / "alerts").glob("*.jsonl"))
              for line in f.read_text().splitlines()]
    assert "planted" not in json.dumps(alerts)
    quarantine_alerts = [a for a in alerts if a["kind"] == "quarantine"]
    batches = {r[0] for r in query(db, "select distinct batch_id from raw.quarantine")}
    assert len(batches) >= len(expected)
    assert sorted(a["batch_id"] for a in quarantine_alerts) == sorted(batches)
    assert [a["provider"] for a in alerts if a["kind"] == "unpriced"] == ["acme-llm"]
    assert "sent 0 new alerts" in second.out
