"""Inputs real exports contain, each planted next to good records in a working home: `run`
lands, builds and publishes the rest, twice in a row, and never prints what a pill holds."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import zstandard

from conftest import LITELLM_COUNT_REASON, query, run_cli

FIXTURES = Path(__file__).parents[1] / "fixtures"


@pytest.fixture(autouse=True)
def _every_group_published(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests check that bad input never stops the warehouse, against totals worked by hand over a few
    people: k = 1 publishes every group (the k rules have their own tests in test_privacy.py)."""
    monkeypatch.setenv("TOKEN_LEDGER_MIN_GROUP_SIZE", "1")
GOOD = {"occurred_at": "2026-10-05T10:00:00Z", "provider": "anthropic", "model": "claude-sonnet-4-6",
        "user_email": "good.person@corp.example", "input_tokens": 100, "output_tokens": 50}


def _record(request_id: str, **changes: object) -> str:
    return json.dumps({"request_id": request_id, **GOOD, **changes})


def _planted(n: int) -> str:
    return f"planted.{n}@corp.example"


def _collector_zstd(export: bytes) -> bytes:
    """An export as an OpenTelemetry Collector's file exporter writes it with `compression: zstd`
    (without its native compression): compressed, after its length (4 bytes, big-endian)."""
    frame = zstandard.ZstdCompressor().compress(export)
    return len(frame).to_bytes(4, "big") + frame


def _parquet_not_utf8(work: Path) -> bytes:
    """A canonical Parquet file whose address is not UTF-8 (a byte of it changed on the way):
    DuckDB's reader refuses it, quoting the value."""
    target = work / "not-utf8.parquet"
    duckdb.connect().execute(
        f"copy (select 'pill-40' as request_id, timestamp '2026-10-05 10:00:00' as occurred_at, 'anthropic' as "
        f"provider, 'claude-sonnet-4-6' as model, '{_planted(30)}' as user_email, 100 as input_tokens, 50 as "
        f"output_tokens) to '{target}' (format parquet, compression uncompressed)")
    data = target.read_bytes().replace(_planted(30).encode(), _planted(30).encode().replace(b"0", b"\xca"))
    target.unlink()
    return data


def _misshapen(line: bytes, *path: str | int) -> bytes:
    """An OTLP/JSON export request whose list at `path` (under its first resource) holds `true`."""
    doc = json.loads(line)
    holder = doc[path[0]][0]
    for step in path[1:-1]:
        holder = holder[step]
    holder[path[-1]] = True
    return json.dumps(doc).encode() + b"\n"


def _pills(drop: Path) -> dict[str, tuple[int, str | None]]:
    """Write the pills; file name -> (line, reason) each is quarantined with (None: not quarantined)."""
    drop.mkdir(parents=True)
    pages = [json.loads((FIXTURES / "anthropic-usage-report" / f"page-{n}.json").read_text()) for n in (1, 2)]
    row = json.loads((FIXTURES / "claude-code-analytics" / "page-1.json").read_text())["data"][0]
    exports = (FIXTURES / "claude-code-otel" / "collector-export.jsonl").read_bytes().split(b"\n")
    points = (FIXTURES / "claude-code-otel-metrics" / "metrics.jsonl").read_bytes().split(b"\n")
    export = exports[0]

    def analytics(**changes: object) -> bytes:
        """A Claude Code analytics page: a good row, then one with a nested count of another shape."""
        return json.dumps({"data": [row, {**row, "terminal_type": "pill", **changes}], "has_more": False}).encode()

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
        # a speed Anthropic does not name (usage.speed is standard or fast): its price is unknown
        "speed-unknown.jsonl": (_record("pill-speed-ok", speed="standard") + "\n"
                                + _record("pill-speed", speed="turbo", user_email=_planted(22)) + "\n").encode(),
        "unknown-provider.jsonl": (_record("pill-11", provider="acme-llm", model="acme-1") + "\n").encode(),
        # the same field twice: DuckDB would read the first, Python the last
        "duplicate-key.jsonl": (_record("pill-12", user_email=_planted(9))[:-1] + ', "input_tokens": 900}\n'
                                + _record("pill-13") + "\n").encode(),
        # five more real exports do: Windows line ends, a file cut mid-record by a killed exporter,
        # an unbalanced CSV quote, a negative count, a NUL byte
        "crlf.jsonl": (_record("pill-14") + "\r\n" + _record("pill-15") + "\r\n").encode(),
        "truncated.jsonl": (_record("pill-16") + "\n" + _record("pill-17", user_email=_planted(10)).split(
            '"input_tokens"')[0]).encode(),
        "unbalanced.csv": ("request_id,occurred_at,provider,model,user_email,input_tokens,output_tokens\n"
                           "pill-18,2026-10-05T10:00:00Z,openai,gpt-4.1,good.person@corp.example,10,5\n"
                           f'pill-19,"2026-10-05T10:00:00Z,openai,gpt-4.1,{_planted(11)},10,5\n').encode(),
        # blank lines in a CSV export (each a row, as a spreadsheet shows the file)
        "blank-lines.csv": ("request_id,occurred_at,provider,model,user_email,input_tokens,output_tokens\n\n"
                            "pill-30,2026-10-05T10:00:00Z,openai,gpt-4.1,good.person@corp.example,10,5\n\n"
                            f"pill-31,2026-10-05T10:00:00Z,openai,gpt-4.1,{_planted(17)},-10,5\n").encode(),
        "negative.jsonl": (_record("pill-21", input_tokens=-5, user_email=_planted(12)) + "\n").encode(),
        "nul-byte.jsonl": (_record("pill-22", user_email=_planted(13)).replace("pill-22", "pill-22\x00") + "\n"
                           + _record("pill-23") + "\n").encode(),
        # Excel's "Unicode Text" export, and a download stored gzipped (Content-Encoding) under its plain name
        "excel-unicode.csv": "request_id,occurred_at\r\npill-24,2026-10-05T10:00:00Z\r\n".encode("utf-16"),
        # Snowflake's unload writes no header unless asked (HEADER = TRUE)
        "snowflake-no-header.csv": f"pill-32,2026-10-05 10:00:00.000,openai,gpt-4.1,{_planted(18)},10,5\n".encode(),
        "s3-download.jsonl": gzip.compress((_record("pill-25") + "\n").encode()),
        # pages of a provider's report, one per line, with a gap: a page cut short, the error the API
        # answered instead of a page, a page with a byte that is not UTF-8 (each beside a good page)
        "pages-cut.jsonl": (json.dumps(pages[0]) + "\n" + json.dumps(pages[1])[:40] + "\n").encode(),
        "pages-error.jsonl": (json.dumps(pages[0]) + "\n" + json.dumps(
            {"type": "error", "error": {"type": "rate_limit_error", "message": "Rate limited"}}) + "\n").encode(),
        "pages-not-utf8.jsonl": json.dumps(pages[0]).encode() + b'\n{"data": \xff[]}\n',
        # a bucket without its results (a page cut short inside), after a good page's three
        "pages-bucket-cut.json": json.dumps({**pages[0], "data": [
            *pages[0]["data"], {"starting_at": "2025-10-02T00:00:00Z", "ending_at": "2025-10-03T00:00:00Z"}]}).encode(),
        # pages of the newer Usage and Cost Analytics API (rows of `group` and `cost` or `usage`, no
        # results), which the report readers once landed as nothing: a usage or cost row broken out
        # by the person behind it is quarantined, saying what to fetch
        "analytics-api-usage-by-actor.json": json.dumps({"data": [{
            "starting_at": "2025-10-01T00:00:00Z", "ending_at": "2025-10-02T00:00:00Z",
            "group": {"model": "claude-sonnet-4-5", "actor": {"type": "user", "email_address": _planted(20)}},
            "usage": {"uncached_input_tokens": 2250, "output_tokens": 10, "requests": 1}}],
            "has_more": False, "next_page": None}).encode(),
        "analytics-api-cost-by-actor.json": json.dumps({"data": [{
            "starting_at": "2025-10-01T00:00:00Z", "ending_at": "2025-10-02T00:00:00Z",
            "group": {"model": "claude-sonnet-4-5", "actor": {"type": "user", "email_address": _planted(19)}},
            "cost": {"amount": "2250.0", "currency": "USD", "list_amount": "2250.0", "requests": 3}}],
            "has_more": False, "next_page": None}).encode(),
        # counts nested in the analytics report's JSON fields, which the build reads as numbers
        "analytics-tool-actions.json": analytics(tool_actions={"edit_tool": {"accepted": 3, "rejected": {"a": 1}}}),
        "analytics-breakdown-object.json": analytics(model_breakdown={"model": "claude-sonnet-4-6"}),
        "analytics-breakdown-decimal.json": analytics(model_breakdown=[
            {"model": "claude-sonnet-4-6", "tokens": {"input": 1.5, "output": 500}}]),
        # a gateway record with cached tokens and no prompt_tokens: its input would be negative
        "litellm-no-prompt.csv": (
            "request_id,call_type,spend,prompt_tokens,completion_tokens,startTime,model,custom_llm_provider,user,"
            "metadata,status\n"
            'pill-26,acompletion,0.001,100,5,2026-10-05 10:00:00,gpt-4.1,openai,good.person@corp.example,'
            '"{""usage_object"":{""prompt_tokens_details"":{""cached_tokens"":20}}}",success\n'
            f'pill-27,acompletion,0.001,,5,2026-10-05 10:00:00,gpt-4.1,openai,{_planted(14)},'
            '"{""usage_object"":{""prompt_tokens_details"":{""cached_tokens"":2232}}}",success\n').encode(),
        # cached tokens given as a negative or decimal number (LiteLLM's JSON rows, as its API returns
        # them): the input made of them would be wrong, or below zero (the build's test)
        **{f"litellm-cached-{kind}.jsonl": "".join(json.dumps({
            "request_id": request_id, "call_type": "acompletion", "prompt_tokens": 100, "completion_tokens": 5,
            "startTime": "2026-10-05 10:00:00", "model": "gpt-4.1", "custom_llm_provider": "openai", "user": user,
            "metadata": {"usage_object": {"prompt_tokens_details": {"cached_tokens": cached}}}, "status": "success",
        }) + "\n" for request_id, user, cached in [(f"pill-{kind}-ok", "good.person@corp.example", 20),
                                                    (f"pill-{kind}", _planted(15), bad)]).encode()
           for kind, bad in (("negative", -1), ("decimal", 1.5))},
        # a web search count below zero: the searches' cost would be negative
        "litellm-searches-negative.jsonl": "".join(json.dumps({
            "request_id": request_id, "call_type": "acompletion", "prompt_tokens": 100, "completion_tokens": 5,
            "startTime": "2026-10-05 10:00:00", "model": "claude-sonnet-4-5", "custom_llm_provider": "anthropic",
            "user": user, "metadata": {"usage_object": {"server_tool_use": {"web_search_requests": searches}}},
            "status": "success",
        }) + "\n" for request_id, user, searches in [("pill-searches-ok", "good.person@corp.example", 1),
                                                      ("pill-searches", _planted(21), -2)]).encode(),
        # LiteLLM's JSON rows after a first line that is not JSON (a stray line before the export):
        # read as JSON Lines, as the name says, not as a CSV lacking its columns
        "litellm-first-garbage.jsonl": f"garbage {_planted(16)}\n".encode() + json.dumps({
            "request_id": "pill-29", "call_type": "acompletion", "prompt_tokens": 100, "completion_tokens": 5,
            "startTime": "2026-10-05 10:00:00", "model": "gpt-4.1", "custom_llm_provider": "openai",
            "user": "good.person@corp.example", "status": "success"}).encode() + b"\n",
        # one request id under two providers (an export without the provider column, then one with
        # it): two requests, as the request key (provider, request id) says; the build took it for one
        **{f"litellm-provider-{n}.csv": (
            "request_id,call_type,prompt_tokens,completion_tokens,startTime,model,custom_llm_provider,user,status\n"
            f"pill-28,acompletion,100,5,2026-10-05 10:00:00,gpt-4.1,{provider},good.person@corp.example,success\n"
        ).encode() for n, provider in enumerate(["openai", "azure"])},
        # Copilot credits given back: below zero, which the build tests they are not
        "copilot-negative.jsonl": "".join(json.dumps({"day": "2026-10-05", "user_login": f"pill-{n}-gh",
                                                      "loc_added_sum": 3, "ai_credits_used": credits}) + "\n"
                                          for n, credits in enumerate([1.5, -1])).encode(),
        # a counter's point below zero (the build tests outcome points are not), a key type with a typo
        "metrics-negative.jsonl": (FIXTURES / "claude-code-otel-metrics" / "metrics.jsonl").read_bytes().split(
            b"\n")[0].replace(b'"asInt":"2"', b'"asInt":"-2"', 1) + b"\n",
        "owners-typo.csv": b"key_type,key_id,team_id,valid_from\nanthropic_api_key,apikey_P1,T-1,2025-01-01\n"
                           b"anthropic_key,apikey_P2,T-1,2025-01-01\n",
        # a Collector's file exporter writing zstd-compressed messages, each after its length: they
        # land, also under a name for zstd (a file that is not one); protobuf messages (one empty
        # ResourceLogs, field 1), compressed so or not, and such a file cut short do not
        "collector-zstd.json": _collector_zstd(export),
        "collector-zstd-named.json.zst": _collector_zstd(export + b" "),
        "collector-proto.json": b"\x00\x00\x00\x02\x0a\x00",
        "collector-proto-zstd.json": _collector_zstd(b"\x0a\x00"),
        "collector-zstd-cut.json": (_collector_zstd(export + b"  ") * 2)[:-9],
        "not-utf8.parquet": _parquet_not_utf8(drop.parent),
        "otel-attributes-object.jsonl": json.dumps({"resourceLogs": [{"resource": {"attributes": {
            "user.email": _planted(8)}}, "scopeLogs": [{"logRecords": [{"attributes": {"user.email": _planted(8)}}]}]}]}
        ).encode() + b"\n",
        # an export whose list holds another value, after a good one: that line alone is quarantined
        "otel-attributes-bool.jsonl": exports[3] + b"\n" + _misshapen(exports[3], "resourceLogs", "scopeLogs", 0,
                                                                    "logRecords", 0, "attributes"),
        "metrics-points-object.jsonl": points[0] + b"\n" + _misshapen(points[6], "resourceMetrics", "scopeMetrics", 0,
                                                                    "metrics", 0, "sum", "dataPoints"),
    }
    for name, data in files.items():
        (drop / name).write_bytes(data)
    # its exporter was killed ten minutes ago: a file cut mid-line and written to in the last five
    # minutes is being written, and waits for the next landing (test_landing_bulk)
    stopped = dt.datetime.now(dt.UTC).timestamp() - 600
    os.utime(drop / "truncated.jsonl", (stopped, stopped))
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
        "duplicate-key.jsonl": (1, "duplicate JSON key for field 'input_tokens'"),
        "truncated.jsonl": (2, "invalid JSON"),
        "unbalanced.csv": (3, "field 'occurred_at' is not an ISO-8601 timestamp"),
        "negative.jsonl": (1, "field 'input_tokens' is negative"),
        "blank-lines.csv": (5, "field 'input_tokens' is negative"),
        "nul-byte.jsonl": (1, "invalid JSON"),
        "pages-cut.jsonl": (2, "invalid JSON"),
        "pages-error.jsonl": (2, "not a report page (no data array)"),
        "pages-not-utf8.jsonl": (2, "invalid UTF-8"),
        "pages-bucket-cut.json": (4, "a bucket without a results array of objects"),
        "analytics-api-usage-by-actor.json": (1, "broken out by 'actor', which a usage report is not kept by: "
                                                 "fetch with group_by[] of model, api_key_id, workspace_id, "
                                                 "service_tier, context_window, speed, inference_geo only"),
        "analytics-api-cost-by-actor.json": (1, "broken out by 'actor', which a bill is not kept by: fetch with "
                                                "group_by[] of model, workspace_id, service_tier, context_window, "
                                                "cost_type, token_type, speed, inference_geo only"),
        "analytics-tool-actions.json": (2, "field 'tool_actions' holds an accepted or rejected count that is not a "
                                           "whole number"),
        "analytics-breakdown-object.json": (2, "field 'model_breakdown' is not a JSON array"),
        "analytics-breakdown-decimal.json": (2, "field 'model_breakdown' holds a token count that is not a whole "
                                                "number, or a cost that is not a number"),
        "litellm-no-prompt.csv": (3, "cached tokens exceed prompt_tokens"),
        "speed-unknown.jsonl": (2, "field 'speed' is not one of standard, fast"),
        "litellm-first-garbage.jsonl": (1, "invalid JSON"),
        **{f"litellm-cached-{kind}.jsonl": (2, LITELLM_COUNT_REASON) for kind in ("negative", "decimal")},
        "litellm-searches-negative.jsonl": (2, LITELLM_COUNT_REASON),
        "metrics-negative.jsonl": (1, "field 'value' is negative"),
        "otel-attributes-object.jsonl": (1, "field 'attributes' is not a JSON array"),
        "not-utf8.parquet": (None, "cannot be read as Parquet (invalid input error)"),
        "otel-attributes-bool.jsonl": (2, "field 'attributes' is not a JSON array"),
        "metrics-points-object.jsonl": (2, "field 'dataPoints' is not a JSON array"),
        "copilot-negative.jsonl": (2, "field 'ai_credits_used' is negative"),
        "owners-typo.csv": (3, "field 'key_type' is not one of anthropic_api_key, anthropic_workspace, "
                               "openai_api_key, openai_project, openai_user"),
        "excel-unicode.csv": (None, "UTF-16 text; save it as UTF-8 (in Excel: CSV UTF-8)"),
        "snowflake-no-header.csv": (None, "line 1 is a record, not a header: a CSV is read by its header row "
                                          "(Snowflake's unload writes one with HEADER = TRUE)"),
        "s3-download.jsonl": (None, "gzip-compressed; land it decompressed, or gzipped under a name ending .gz"),
        **{f"collector-{kind}.json": (None, "an OpenTelemetry Collector file exporter's file written with format: "
                                            "proto (each export after its length); land what it writes as JSON "
                                            "lines: format json") for kind in ("proto", "proto-zstd")},
        "collector-zstd-cut.json": (None, "not a readable OpenTelemetry Collector zstd file (corrupt, or cut short)"),
    }


def test_poison_pills_never_stop_the_warehouse(tmp_path: Path) -> None:
    home, inputs = tmp_path / "home", tmp_path / "input"
    run_cli(home, "generate", "--out", str(inputs), "--users", "40", "--days", "3", "--seed", "11")
    expected = _pills(inputs / "drop")
    first = run_cli(home, "run", str(inputs))
    # a disk that filled while Great Expectations wrote its store: a truncated checkpoint
    checkpoint = next((home / "validation").rglob("checkpoints/*.json"))
    checkpoint.write_text(checkpoint.read_text()[:20])
    # and a person whose record is in quarantine is erased: the batch counts stay consistent
    assert "1 quarantined records" in run_cli(home, "erase", "--user", _planted(2)).out
    del expected["first-lacks-model.jsonl"]
    # and so is the person a bill's row was broken out by (an actor, in a JSON object)
    assert "1 quarantined records" in run_cli(home, "erase", "--user", _planted(19)).out
    del expected["analytics-api-cost-by-actor.json"]
    second = run_cli(home, "run", str(inputs))  # the pills again: nothing fails, nothing lands twice
    assert "unreadable Great Expectations store files" in second.err and "validated" in second.out
    assert "skipped 0 files" not in second.out and "landed 0 records" in second.out
    for result in (first, second):
        assert "planted" not in result.out + result.err
        assert "Traceback" not in result.out + result.err

    db = home / "token_ledger.duckdb"
    quarantined = {(Path(f).name, line): reason for f, line, reason in query(
        db, "select file_path, line_number, reason from raw.quarantine")}
    assert {k: v for k, v in quarantined.items() if k[0] in expected} == {
        (name, line): reason for name, (line, reason) in expected.items()}
    # a Collector's framed zstd exports land: the fixture's first export holds one request
    # (EXPECTED.md), at its line; the copy under a .zst name holds it again, a replay
    assert query(db, "select o.request_id, o._line from raw.claude_code_otel_events as o inner join "
                     "raw.load_batches as b on o._batch_id = b.batch_id where b.file_path like '%/collector-zstd%'"
                 ) == [("req_otel_0001", 1)]
    # the good export beside a misshapen one lands (the fixture's fourth line: one request)
    assert query(db, "select o.request_id from raw.claude_code_otel_events as o inner join raw.load_batches as b "
                     "on o._batch_id = b.batch_id where b.file_path like '%/otel-attributes-bool.jsonl'"
                 ) == [("req_otel_0004",)]
    # every good record beside a pill is in the facts and the published file
    landed = {r[0] for r in query(db, "select request_id from restricted.fct_usage_events "
                                      "where request_id like 'pill-%'")}
    assert landed == {"pill-bom", "pill-2", "pill-3", "pill-4", "pill-5", "pill-7", "pill-10", "pill-11", "pill-13",
                      "pill-14", "pill-15", "pill-16", "pill-18", "pill-23", "pill-26", "pill-28", "pill-29", "pill-30",
                      "pill-negative-ok", "pill-decimal-ok", "pill-searches-ok",
                      "pill-speed-ok"}
    assert query(db, "select provider from restricted.fct_usage_events where request_id = 'pill-28' order by 1") == [
        ("azure",), ("openai",)]
    private = query(db, "select sum(requests), sum(total_tokens) from restricted.fct_usage_events")[0]
    published = query(home / "analytics.duckdb", "select sum(requests), sum(total_tokens) from fct_usage_daily")
    assert published[0] == private
    # Sonnet at $3 / $15 per million input / output tokens: 90e9 × 3 / 1e6 + 50 × 15 / 1e6, exactly
    assert query(db, "select cost_usd from restricted.fct_usage_events where request_id = 'pill-10'") == [
        (Decimal("270000.00075"),)]
    # an unknown provider lands unpriced and is listed, never an error
    assert query(db, "select price_status from restricted.fct_usage_events where request_id = 'pill-11'") == [
        ("unpriced",)]
    # the array of pages landed both pages' results (EXPECTED.md: 5, one of them negative), and each
    # file of pages with a gap (three of pages, one of buckets) its good page's 3; the empty page
    # and the empty file nothing
    assert query(db, "select count(*) from raw.anthropic_usage_report") == [(4 + 3 * 4,)]
    assert "1 empty files skipped" in first.out
    # each file with quarantined records raises one alert (batch and reasons, no content), and so
    # does the model the catalog does not know; the second run sends none of them again
    alerts = [json.loads(line) for f in sorted((home / "alerts").glob("*.jsonl"))
              for line in f.read_text().splitlines()]
    assert "planted" not in json.dumps(alerts)
    quarantine_alerts = [a for a in alerts if a["kind"] == "quarantine"]
    batches = {r[0] for r in query(db, "select distinct batch_id from raw.quarantine")}
    assert len(batches) >= len(expected)
    alerted = [a["batch_id"] for a in quarantine_alerts]
    # each batch alerted once (the erased people's two batches were alerted before the erasures)
    assert len(alerted) == len(set(alerted)) and batches <= set(alerted) and len(alerted) == len(batches) + 2
    assert [(a["provider"], a["reason"]) for a in alerts if a["kind"] == "unpriced"] == [
        ("acme-llm", "model_not_in_catalog")]
    assert "sent 0 new alerts" in second.out


def _transcript_line(output_tokens: int) -> str:
    """One streamed write of a Claude Code transcript message (ids as Claude Code writes them)."""
    return json.dumps({
        "type": "assistant", "sessionId": "s-1", "uuid": f"u-{output_tokens}", "requestId": "req_stream",
        "timestamp": "2026-10-05T12:00:00.000Z",
        "message": {"id": "msg_stream", "model": "claude-sonnet-4-6",
                    "usage": {"input_tokens": 10, "output_tokens": output_tokens}},
    })


def test_replays_are_ignored_and_corrections_replace(tmp_path: Path) -> None:
    """docs/formats.md, "Replays and corrections", by hand: a repeat with the same counts is a
    replay; other counts on the same UTC day replace the landed record, from a bulk-landed
    JSON Lines file or a CSV landed record by record; a repeat dated another day, however far
    from the first, is a replay; within a file the last copy stands (a streamed transcript
    message, written three times)."""
    home, drop = tmp_path / "home", tmp_path / "drop"
    drop.mkdir()
    first = [_record("r1", occurred_at="2026-10-05T10:00:00Z", input_tokens=100),
             _record("r2", occurred_at="2026-10-05T11:00:00Z", input_tokens=10, output_tokens=5),
             _record("r3", occurred_at="2026-10-05T23:30:00Z", input_tokens=7, output_tokens=7)]
    (drop / "first.jsonl").write_text("\n".join(first) + "\n")
    run_cli(home, "land", str(drop / "first.jsonl"))
    run_cli(home, "build")

    header = "request_id,occurred_at,provider,model,user_email,input_tokens,output_tokens\n"
    person = "good.person@corp.example"
    (drop / "again.csv").write_text(  # the careful path
        header
        + f"r1,2026-10-05T10:00:00Z,anthropic,claude-sonnet-4-6,{person},300,50\n"  # correction
        + f"r2,2026-10-05T11:00:00Z,anthropic,claude-sonnet-4-6,{person},10,5\n"  # replay
        + f"r3,2026-10-06T00:10:00Z,anthropic,claude-sonnet-4-6,{person},9,9\n"  # another day: a replay
    )
    (drop / "fix.jsonl").write_text("\n".join([  # the bulk path
        _record("r2", occurred_at="2026-10-05T11:00:00Z", input_tokens=20, output_tokens=5),  # correction
        _record("r4", occurred_at="2026-10-05T12:00:00Z", input_tokens=1, output_tokens=1),
        _record("r4", occurred_at="2026-10-05T12:00:00Z", input_tokens=5, output_tokens=5),  # the last stands
    ]) + "\n")
    (drop / "session.jsonl").write_text("\n".join(_transcript_line(n) for n in (10, 40, 120)) + "\n")
    csv_landing = run_cli(home, "land", str(drop / "again.csv"))
    assert "1 landed records replaced by corrections" in csv_landing.out
    assert "ignored 2 records" in csv_landing.out
    json_landing = run_cli(home, "land", str(drop / "fix.jsonl"))
    assert "1 landed records replaced by corrections" in json_landing.out
    run_cli(home, "land", "--user", person, str(drop / "session.jsonl"))
    # a replay dated far from the first, alone in its file: a week later (the careful path),
    # weeks later (the bulk path)
    (drop / "late.csv").write_text(header + f"r2,2026-10-12T11:00:00Z,anthropic,claude-sonnet-4-6,{person},10,5\n")
    (drop / "late.jsonl").write_text(_record("r3", occurred_at="2026-10-26T09:00:00Z", input_tokens=8,
                                             output_tokens=8) + "\n")
    for late in ("late.csv", "late.jsonl"):
        assert "landed 0 records" in run_cli(home, "land", str(drop / late)).out
    run_cli(home, "build")

    db = home / "token_ledger.duckdb"
    assert query(db, "select request_id, cast(occurred_at as date), input_tokens, output_tokens "
                     "from restricted.fct_usage_events order by request_id") == [
        ("r1", dt.date(2026, 10, 5), 300, 50),
        ("r2", dt.date(2026, 10, 5), 20, 5),
        ("r3", dt.date(2026, 10, 5), 7, 7),
        ("r4", dt.date(2026, 10, 5), 5, 5),
        ("req_stream", dt.date(2026, 10, 5), 10, 120),
    ]
    # the day's published-side facts follow: 300 + 20 + 7 + 5 + 10 input, 50 + 5 + 7 + 5 + 120 output
    assert query(db, "select sum(input_tokens), sum(output_tokens) from marts.fct_usage_daily") == [(342, 187)]


def test_state_that_fails_never_blocks_for_good(tmp_path: Path) -> None:
    """A batch an older version landed, with a count today's rules refuse (10^15 tokens): the
    run flags the batch, alerts once, and publishes; the next run neither flags nor fails. Then
    a corrupt warehouse: one line, exit code 3, and recovery once the file is restored."""
    home, inputs = tmp_path / "home", tmp_path / "input"
    run_cli(home, "generate", "--out", str(inputs), "--users", "12", "--days", "2", "--seed", "5")
    run_cli(home, "run", str(inputs))
    db = home / "token_ledger.duckdb"
    con = duckdb.connect(str(db))
    try:
        con.execute(
            """
            insert into raw.canonical_events by name
            select 'old-1' as request_id, max(occurred_at) as occurred_at, 'anthropic' as provider,
                'claude-sonnet-4-6' as model, any_value(user_email) as user_email, 1000000000000000 as input_tokens,
                1 as output_tokens, 1 as _line, 'old-batch' as _batch_id, now()::timestamp as _loaded_at
            from raw.canonical_events;
            insert into raw.load_batches (batch_id, source_format, file_path, file_checksum, loaded_at,
                rows_landed, rows_quarantined, rows_skipped)
            values ('old-batch', 'canonical', 'old.jsonl', 'old-digest', now()::timestamp, 1, 0, 0);
            -- as that version left the home: no reference checksums (so the first build after the
            -- upgrade rebuilds every day; it never queued the days it landed)
            drop table audit.reference_checksums;
            """
        )
    finally:
        con.close()
    flagged = run_cli(home, "run")
    assert "flagged 1 landed batches" in flagged.out
    assert "warning: landed batch old-batch failed landed_usage_events" in flagged.err
    assert "published" in flagged.out
    assert query(db, "select batch_id, check_name from audit.flagged_batches") == [
        ("old-batch", "landed_usage_events")]
    assert query(home / "analytics.duckdb", "select max(input_tokens) from fct_usage_daily")[0][0] >= 10**15
    alerts = [json.loads(line) for f in sorted((home / "alerts").glob("*.jsonl"))
              for line in f.read_text().splitlines()]
    assert [a["batch_id"] for a in alerts if a["kind"] == "flagged_batch"] == ["old-batch"]
    again = run_cli(home, "validate")  # flagged once: the batch is not checked again
    assert "flagged" not in again.out and "0 failed" in again.out

    # the published marts checked against the private facts, a day at a time: a copy of the home
    # whose fct_usage_daily has one row's cost raised by a cent and another row repeated, and
    # one of whose published groups has fewer than k people, fails validation on each (a run
    # would not publish it)
    tampered = tmp_path / "tampered"
    shutil.copytree(home, tampered)
    con = duckdb.connect(str(tampered / "token_ledger.duckdb"))
    try:
        con.execute(
            """
            update marts.fct_usage_daily set cost_usd = cost_usd + 0.01  -- the first day
            where rowid = (select arg_min(rowid, usage_date) from marts.fct_usage_daily);
            insert into marts.fct_usage_daily  -- the last day
            select * from marts.fct_usage_daily
            where rowid = (select arg_max(rowid, usage_date) from marts.fct_usage_daily);
            update restricted.dim_org_groups_daily set group_people = 0  -- a group published under k
            where rowid = (select min(rowid) from restricted.dim_org_groups_daily where is_published and people > 0);
            """
        )
    finally:
        con.close()
    failed = run_cli(tampered, "validate", check=False)
    assert failed.code == 1 and "3 passed, 2 failed" in failed.out, failed
    assert "published_fct_usage_daily: expect_column_values_to_be_between cost_difference_usd" in failed.out
    assert "published_fct_usage_daily: expect_column_values_to_be_between repeated_rows" in failed.out
    assert "published_fct_usage_daily: expect_column_pair_values_to_be_equal" in failed.out  # the requests
    assert "published_group_sizes: expect_column_values_to_be_between fewest_people" in failed.out

    # a damaged block in the private warehouse: every command fails with one line and exit code
    # 3 (docs/operations.md), the published file stays as it was, and once the file is restored
    # the next run completes, with nothing deleted by hand
    published = home / "analytics.duckdb"
    backup, before = tmp_path / "backup.duckdb", published.read_bytes()
    backup.write_bytes(db.read_bytes())
    with db.open("r+b") as handle:  # every block after the headers
        for offset in range(12288 + 8, db.stat().st_size, 262144):
            handle.seek(offset)
            handle.write(b"\xde\xad\xbe\xef" * 256)
    for args in (["land", str(inputs / "people.csv")], ["build"], ["validate"], ["run", str(inputs)]):
        result = run_cli(home, *args, check=False)
        assert result.code == 3, (args, result)
        assert "Traceback" not in result.out + result.err
        assert all(line.startswith(("error: ", "[")) for line in result.err.splitlines()), result.err
        assert "Corrupt database file" in result.err
    assert published.read_bytes() == before
    db.write_bytes(backup.read_bytes())  # the cause gone
    assert "published" in run_cli(home, "run", str(inputs)).out



def _otel_request(i: int) -> dict:
    """One `claude_code.api_request` log record of a Collector's batch: i's person, 10 + i mod 7
    input tokens."""
    def attr(key: str, value: str, kind: str = "stringValue") -> dict:
        return {"key": key, "value": {kind: value}}
    return {"timeUnixNano": "1759320000000000000", "body": {"stringValue": "claude_code.api_request"},
            "attributes": [attr("event.name", "api_request"), attr("event.timestamp", "2025-10-01T12:00:00Z"),
                           attr("user.email", f"batch.person{i % 50}@corp.example"), attr("session.id", f"s-{i % 300}"),
                           attr("request_id", f"req_batch_{i}"), attr("model", "claude-sonnet-4-5-20250929"),
                           attr("input_tokens", str(10 + i % 7), "intValue"), attr("output_tokens", "20", "intValue"),
                           attr("terminal.type", "vscode"), attr("organization.id", "org-1")]}


def test_a_collector_batch_beside_a_bad_line_lands(tmp_path: Path) -> None:
    """A Collector's `file` exporter writes each batch as one line: 8,192 records (its batch
    processor's default) in one resource, 6.3 MB. A bad line beside it sends the file the
    careful way, which carried the whole resource with each record and read it again for
    each: the file failed, out of memory, and nothing of it landed. Tokens by formula: 1,170
    whole cycles of 10..16 and 10, 11 (81,920 + 24,570 + 1)."""
    batch = {"resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value": {
        "stringValue": "claude-code"}}]}, "scopeLogs": [{"logRecords": [_otel_request(i) for i in range(8192)]}]}]}
    drop = tmp_path / "otel"
    drop.mkdir()
    (drop / "collector.jsonl").write_text(json.dumps(batch) + "\nnot json\n")
    home = tmp_path / "home"
    printed = run_cli(home, "land", str(drop))
    assert "landed 8192 records from 1 files" in printed.out and "quarantined 1 records" in printed.out
    db = home / "token_ledger.duckdb"
    assert query(db, "select count(*), sum(input_tokens), count(distinct user_email) from raw.claude_code_otel_events"
                 ) == [(8192, 81920 + 24570 + 1, 50)]
    assert query(db, "select line_number, reason from raw.quarantine") == [(2, "invalid JSON")]
