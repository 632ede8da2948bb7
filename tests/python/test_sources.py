"""Real source formats: hand-worked fixtures, generated volumes, and no double counting."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import LITELLM_COUNT_REASON, query, run_cli
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


EVERY_GROUP = {"TOKEN_LEDGER_MIN_GROUP_SIZE": "1"}  # the same, for the homes the tests of a module share


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


def quarantine(home: Path, folder: str) -> dict[tuple[str, int], str]:
    """What was quarantined from the files of one fixture folder: (file name, line) -> reason."""
    rows = query(home / "token_ledger.duckdb", "select file_path, line_number, reason from raw.quarantine")
    return {(Path(f).name, line): reason for f, line, reason in rows if Path(f).parent.name == folder}


@dataclass
class Landed:
    """A home whose fixtures were each landed by their own `land`, then built and published by
    one `run`: what each `land` printed, by fixture folder."""

    home: Path
    printed: dict[str, str]


# EXPECTED.md of each fixture: requests; input; output; cache read; cache write 5m; 1h; people
OTEL = (3, 2300, 1370, 100000, 3500, 0, 2)
ALICE = (3, 20, 1300, 72000, 13500, 2000, 1)
BOB = (3, 10, 902, 63000, 1000, 800, 1)  # and ccusage 20.0.24 on the same files
LITELLM = (3, 3600, 920, 8500, 4000, 0, 2)
BEDROCK = (3, 13000, 1600, 20000, 4000, 0, 2)


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> Landed:
    """The per-request fixtures (OTel, two people's transcripts, LiteLLM, Bedrock) in one home:
    their requests are all different, and no provider report is landed with them to reconcile."""
    home = tmp_path_factory.mktemp("events") / "home"
    printed = {}
    for folder, user in (("people", None), ("claude-code-otel", None), ("alice", "alice.smith@corp.example"),
                         ("bob", "bob.jones@corp.example"), ("litellm-spendlogs", None),
                         ("bedrock-invocation-logs", None)):
        path = FIXTURES / ("claude-code-jsonl/" if user else "") / folder
        printed[folder] = run_cli(home, "land", *(["--user", user] if user else []), str(path), env=EVERY_GROUP).out
    run_cli(home, "run", env=EVERY_GROUP)
    return Landed(home, printed)


def test_claude_code_otel_fixture(events: Landed) -> None:
    printed, home = events.printed["claude-code-otel"], events.home
    assert "landed 3 records" in printed and "quarantined 2 records" in printed and "ignored 2" in printed
    assert totals(home, "where source_format = 'claude-code-otel'") == OTEL
    assert quarantine(home, "claude-code-otel") == {("collector-export.jsonl", 2): "field 'input_tokens' is negative",
                                                    ("collector-export.jsonl", 3): "invalid JSON"}
    # a team a source names counts if the directory has it
    assert query(home / "token_ledger.duckdb", "select team_id, cost_center, reported_cost_usd "
                 "from restricted.fct_usage_events where request_id = 'req_otel_0001'") == [
        ("T-PLATFORM", "CC-ENG", Decimal("0.02961"))]


def test_claude_code_transcript_fixture(events: Landed, tmp_path: Path) -> None:
    missing = run_cli(tmp_path / "home", "land", str(FIXTURES / "claude-code-jsonl"), check=False)
    assert missing.code != 0 and "--user" in missing.err
    assert "quarantined 1 records" in events.printed["alice"]
    assert totals(events.home, "where user_email = 'alice.smith@corp.example'") == ALICE
    assert quarantine(events.home, "alice") == {("session-a.jsonl", 6): "field 'input_tokens' is not a whole number"}


def test_streamed_transcript_messages_count_once_at_their_largest_usage(events: Landed) -> None:
    printed = events.printed["bob"]
    assert "landed 3 records" in printed and "ignored 8 records" in printed  # 5 repeats, 3 user lines
    assert totals(events.home, "where user_email = 'bob.jones@corp.example'") == BOB


def _fast_mode_line(n: int, model: str, speed: str | None, geo: str | None = None, searches: int = 0,
                    cloud: str = "") -> str:
    """A transcript message of 1,000 input and 1,000 output tokens, at `speed` (None: no speed),
    its inference run in `geo` (None: not said), with `searches` web searches (0: not said), its
    message id as `cloud` gives it (`bdrk_`: Bedrock's msg_bdrk_…, `vrtx_`: Vertex AI's)."""
    usage = {"input_tokens": 1000, "output_tokens": 1000, **({"speed": speed} if speed else {}),
             **({"inference_geo": geo} if geo else {}),
             **({"server_tool_use": {"web_search_requests": searches}} if searches else {})}
    return json.dumps({"type": "assistant", "sessionId": "s-fast", "uuid": f"u-{n}", "requestId": f"req_{n}",
                       "timestamp": "2026-10-05T12:00:00.000Z", "message": {"id": f"msg_{cloud}{n}", "model": model,
                                                                          "usage": usage}})


def _no_ids(line: str) -> str:
    """A transcript line without its request id and message id (a line cut and mended by hand)."""
    doc = json.loads(line)
    del doc["requestId"], doc["message"]["id"]
    return json.dumps(doc)


def _fast_mode_event(n: int, speed: str, model: str = "claude-opus-4-6") -> str:
    """An OpenTelemetry export request of one Claude Code api_request event (Opus 4.6 under the
    name `model`, 1,000 input and 1,000 output tokens), with the `speed` attribute Claude Code
    2.1.39 added."""
    attributes = {"event.name": "api_request", "event.timestamp": "2026-10-05T12:00:00.000Z",
                  "user.email": "fast.person@corp.example", "request_id": f"req_otel_{n}", "model": model,
                  "input_tokens": "1000", "output_tokens": "1000", "speed": speed}
    record = {"timeUnixNano": "1791201600000000000", "body": {"stringValue": "claude_code.api_request"},
              "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in attributes.items()]}
    return json.dumps({"resourceLogs": [{"resource": {"attributes": []}, "scopeLogs": [{"logRecords": [record]}]}]})


def _gateway_row(n: int, provider: str, model: str, api_base: str, usage: dict | None = None,
                 cache_hit: str = "False") -> str:
    """A LiteLLM spend log row (CSV) of 100,000 prompt tokens and no output through `provider`,
    which called `api_base` (the URL LiteLLM logs: Vertex AI's names the endpoint's location),
    with `usage` as its metadata.usage_object (None: none), served from the proxy's own cache or
    not (`cache_hit`)."""
    metadata = json.dumps({"usage_object": usage} if usage else {}).replace('"', '""')
    return (f"gw_{n},acompletion,0.3,100000,100000,0,2026-10-05 12:00:00.000,2026-10-05 12:00:01.000,{model},"
            f'{provider},{api_base},fast.person@corp.example,"{metadata}",success,{cache_hit}')


# GPT-5.6's usage as LiteLLM keeps it: 20,000 of the prompt tokens read from the cache, 50,000 written
GPT_56_WRITES = {"prompt_tokens_details": {"cached_tokens": 20000, "cache_write_tokens": 50000}}
# DeepSeek's usage as LiteLLM's Usage object keeps it: 40,000 of the prompt tokens were cache hits
DEEPSEEK_CACHE_HIT = {"prompt_cache_hit_tokens": 40000, "prompt_cache_miss_tokens": 60000,
                      "prompt_tokens_details": {"cached_tokens": 40000}}
GATEWAY_HEADER = ("request_id,call_type,spend,total_tokens,prompt_tokens,completion_tokens,startTime,endTime,model,"
                  "custom_llm_provider,api_base,user,metadata,status,cache_hit")
VERTEX_SONNET = "projects/p-1/locations/{}/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict"


def test_fast_mode_us_only_and_web_searches_are_priced_as_anthropic_documents(tmp_path: Path) -> None:
    """Claude Code records fast mode as message.usage.speed in transcripts and as the `speed`
    attribute of its OpenTelemetry events. On Anthropic's fast-mode page Opus 4.6 costs $30 /
    $150 per million input / output tokens in fast mode, against $5 / $25: 1,000 + 1,000 tokens
    cost 0.18 fast, 0.03 standard (ccusage 20.0.24 prices the same transcript lines so). Opus
    4.8's fast multiple is not in the reviewed seed: its fast request is unpriced, never priced
    as standard. US-only inference (message.usage.inference_geo "us") costs 1.1 times as much:
    0.033, and 0.198 in fast mode (6 x 1.1 x 0.03); "not_available" is the list price. Web
    searches (message.usage.server_tool_use.web_search_requests) cost $10 per 1,000 on
    Anthropic's web search page, on top of the tokens: 3 searches 0.03 + 0.03 = 0.06, 2 searches
    0.05. Landed in bulk (clean files) and the careful way (a file with a bad line) alike.
    Claude Code on Bedrock or Vertex AI is billed by AWS or Google: its transcripts say so by the
    message id (msg_bdrk_…, msg_vrtx_…; not the endpoint: the list price), its OpenTelemetry
    events by the model's name there. Bedrock's regional profiles (us.…) cost 10% more than the
    global one (Anthropic's and AWS's pricing pages): 0.033 against 0.03. So do Vertex AI's
    regional endpoints from Claude Sonnet 4.5 on (Anthropic's Vertex AI page), which LiteLLM's
    spend logs name in the URL called (api_base): Sonnet 4.5, 100,000 input tokens at $3 per
    MTok, 0.33 in us-east5 or the `us` multi-region, 0.30 at `locations/global` or where the URL
    does not say; Sonnet 4 (before 4.5) 0.30 in us-east5; Gemini 2.5 Flash ($0.30) 0.03 in
    us-east5, no premium; Sonnet 4.5 through Bedrock's US profile 0.33; Sonnet 4.5 with 2 web
    searches in LiteLLM's usage (server_tool_use) 0.30 + 0.02 = 0.32; a response LiteLLM served
    from its own cache (cache_hit True, its spend 0) reached no provider: not usage. Its usage
    keeps Anthropic's split of the cache writes: of 100,000 prompt tokens of Sonnet 4.5, 40,000
    written, 30,000 of them at the 1-hour TTL: 60,000 x $3 + 10,000 x $3.75 + 30,000 x $6 per
    MTok = 0.18 + 0.0375 + 0.18 = 0.3975; and where inference ran: Opus 4.6 US-only, 100,000
    x $5 x 1.1 = 0.55. Canonical records say the same in optional fields named as Anthropic's
    usage names them (speed, inference_geo, web_search_requests), landed in bulk; their service
    tier as the APIs name the standard one (OpenAI's responses "default": gpt-4.1 1,000 x $2 +
    1,000 x $8 per MTok = 0.01; Anthropic's requests "standard_only") is standard, and OpenAI's
    Scale Tier, paid by reserved units, is unpriced, with its reason. An empty speed or geo
    says nothing: the list price. Audio tokens, a part of LiteLLM's prompt and completion tokens
    (OpenAI's usage details), at the model's audio rates (OpenAI's pricing page, gpt-realtime:
    text $4 / $16, audio $32 / $64 per MTok): 20,000 text + 80,000 audio in, 500 text + 1,500
    audio out = 0.08 + 2.56 + 0.008 + 0.096 = 2.744; Gemini 2.5 Flash's audio input ($1.00
    against $0.30): 60,000 x $0.30 + 40,000 x $1 = 0.058; a negative audio count quarantined,
    as a canonical record whose audio tokens exceed its input tokens. DeepSeek prices by the
    time of day (UTC): V4 Flash $0.15 input / $0.003 cache hit outside its peak windows, twice
    that from 01:00 to 04:00; LiteLLM keeps DeepSeek's prompt_cache_hit_tokens as
    prompt_tokens_details.cached_tokens (its Usage object), part of the prompt tokens: 60,000 x
    $0.15 + 40,000 x $0.003 = 0.00912 at noon, 0.01824 at 02:00. OpenRouter passes the maker's
    price through: Sonnet 4.5 by its OpenRouter path, 100,000 x $3 = 0.3. OpenAI bills cache writes
    at 1.25 times the input rate from GPT-5.6 on (its prompt caching guide), and LiteLLM keeps them
    as prompt_tokens_details.cache_write_tokens, part of the prompt tokens: GPT-5.6 Terra ($2.50
    input, $0.25 cached) on 2026-07-27, 30,000 + 20,000 cached + 50,000 written = 0.075 + 0.005 +
    0.15625 = 0.23625 in bulk and the careful way (before: written tokens as input, 0.205); cached
    and written tokens beyond the prompt quarantined. All of it lands in one home and
    one `run`, as a test of its own each would cost the suite another build."""
    drop = tmp_path / "transcripts"
    drop.mkdir()
    (drop / "clean.jsonl").write_text("\n".join([
        _fast_mode_line(1, "claude-opus-4-6", None), _fast_mode_line(2, "claude-opus-4-6", "fast"),
        _fast_mode_line(3, "claude-opus-4-8", "fast"), _fast_mode_line(6, "claude-opus-4-6", None, "us"),
        _fast_mode_line(7, "claude-opus-4-6", "fast", "us"), _fast_mode_line(10, "claude-opus-4-6", None, searches=3),
        _fast_mode_line(12, "claude-opus-4-6", None, cloud="bdrk_"), _fast_mode_line(13, "claude-opus-4-6", None,
                                                                                        cloud="vrtx_")]
    ) + "\n")
    (drop / "with-bad-line.jsonl").write_text("\n".join([
        "not json", _fast_mode_line(4, "claude-opus-4-6", "fast"), _fast_mode_line(5, "claude-opus-4-6", "standard"),
        _fast_mode_line(8, "claude-opus-4-6", None, "not_available"), _fast_mode_line(9, "claude-opus-4-6", None, "us"),
        _fast_mode_line(11, "claude-opus-4-6", None, searches=2), _no_ids(_fast_mode_line(14, "claude-opus-4-6", None))]
    ) + "\n")
    otel = tmp_path / "otel"
    otel.mkdir()
    (otel / "clean.jsonl").write_text("\n".join([
        _fast_mode_event(1, "fast"), _fast_mode_event(2, "normal"),
        _fast_mode_event(4, "normal", "us.anthropic.claude-opus-4-6-v1"),
        _fast_mode_event(5, "normal", "global.anthropic.claude-opus-4-6-v1"),
        _fast_mode_event(6, "normal", "claude-opus-4-6@20260205")]) + "\n")
    (otel / "with-bad-line.jsonl").write_text("\n".join(["not json", _fast_mode_event(3, "fast")]) + "\n")
    gateway = tmp_path / "gateway"
    gateway.mkdir()
    sonnet, us_east5 = "claude-sonnet-4-5@20250929", "https://us-east5-aiplatform.googleapis.com/v1/"
    (gateway / "clean.csv").write_text("\n".join([
        GATEWAY_HEADER, _gateway_row(1, "vertex_ai", sonnet, us_east5 + VERTEX_SONNET.format("us-east5")),
        _gateway_row(2, "vertex_ai", sonnet, "https://aiplatform.googleapis.com/v1/" + VERTEX_SONNET.format("global")),
        _gateway_row(3, "vertex_ai", sonnet,
                     "https://aiplatform.us.rep.googleapis.com/v1/" + VERTEX_SONNET.format("us")),
        _gateway_row(4, "vertex_ai", "claude-sonnet-4@20250514",
                     us_east5 + VERTEX_SONNET.format("us-east5").replace("4-5@20250929", "4@20250514")),
        _gateway_row(5, "vertex_ai", "gemini-2.5-flash", us_east5 + "projects/p-1/locations/us-east5/publishers/google/"
                     "models/gemini-2.5-flash:generateContent"),
        _gateway_row(6, "vertex_ai", sonnet, ""),
        _gateway_row(7, "bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
                     "https://bedrock-runtime.us-east-1.amazonaws.com"),
        _gateway_row(10, "anthropic", "claude-sonnet-4-5-20250929", "https://api.anthropic.com/v1/messages",
                     {"server_tool_use": {"web_search_requests": 2}}),
        _gateway_row(12, "anthropic", "claude-sonnet-4-5-20250929", "", cache_hit="True"),
        _gateway_row(13, "anthropic", "claude-sonnet-4-5-20250929", "", {"cache_creation_input_tokens": 40000,
                     "prompt_tokens_details": {"cache_creation_token_details": {
                         "ephemeral_5m_input_tokens": 10000, "ephemeral_1h_input_tokens": 30000}}}),
        _gateway_row(14, "anthropic", "claude-opus-4-6", "", {"inference_geo": "us"}),
        _gateway_row(16, "openai", "gpt-realtime", "", {"prompt_tokens_details": {"audio_tokens": 80000},
                     "completion_tokens_details": {"audio_tokens": 1500}}).replace(",100000,0,", ",100000,2000,"),
        _gateway_row(17, "vertex_ai", "gemini-2.5-flash", "", {"prompt_tokens_details": {"audio_tokens": 40000}}),
        _gateway_row(19, "deepseek", "deepseek/deepseek-v4-flash", "", DEEPSEEK_CACHE_HIT),
        _gateway_row(20, "deepseek", "deepseek/deepseek-v4-flash", "", DEEPSEEK_CACHE_HIT).replace(
            "2026-10-05 12:00:00.000", "2026-10-05 02:00:00.000"),
        _gateway_row(21, "openrouter", "openrouter/anthropic/claude-sonnet-4.5", "https://openrouter.ai/api/v1"),
        _gateway_row(22, "openai", "gpt-5.6-terra", "", GPT_56_WRITES).replace("2026-10-05", "2026-07-27")]
    ) + "\n")
    (gateway / "with-bad-line.csv").write_text("\n".join([
        GATEWAY_HEADER, _gateway_row(8, "vertex_ai", sonnet, us_east5 + VERTEX_SONNET.format("us-east5")),
        _gateway_row(9, "vertex_ai", sonnet, "").replace("100000,100000", "x,x"),
        _gateway_row(11, "anthropic", "claude-sonnet-4-5-20250929", "",
                     {"server_tool_use": {"web_search_requests": 1.5}}),
        _gateway_row(15, "anthropic", "claude-sonnet-4-5-20250929", "", {"cache_creation_input_tokens": 40000,
                     "prompt_tokens_details": {"cache_creation_token_details": {"ephemeral_1h_input_tokens": 50000}}}),
        _gateway_row(18, "openai", "gpt-realtime", "", {"prompt_tokens_details": {"audio_tokens": -5}}),
        _gateway_row(23, "openai", "gpt-5.6-terra", "", {"prompt_tokens_details": {
            "cached_tokens": 60000, "cache_write_tokens": 50000}}).replace("2026-10-05", "2026-07-27"),
        _gateway_row(24, "openai", "gpt-5.6-terra", "", GPT_56_WRITES).replace("2026-10-05", "2026-07-27")]
    ) + "\n")
    canonical = tmp_path / "canonical"
    canonical.mkdir()
    record = {"occurred_at": "2026-10-05T12:00:00Z", "provider": "anthropic", "model": "claude-opus-4-6",
              "user_email": "fast.person@corp.example", "input_tokens": 1000, "output_tokens": 1000}
    gpt = {"provider": "openai", "model": "gpt-4.1"}
    usages = [{"speed": "fast"}, {"inference_geo": "us"}, {"speed": "fast", "inference_geo": "us"},
              {"web_search_requests": 3}, {"speed": "standard", "inference_geo": "global"},
              {**gpt, "service_tier": "default"}, {**gpt, "service_tier": "scale"}, {"service_tier": "standard_only"},
              {"speed": "", "inference_geo": ""}, {"input_audio_tokens": 2000}]
    (canonical / "clean.jsonl").write_text("\n".join(
        json.dumps({"request_id": f"c_{n}", **record, **usage}) for n, usage in enumerate(usages, 1)) + "\n")
    home = tmp_path / "home"
    run_cli(home, "land", "--user", "fast.person@corp.example", str(drop), env=EVERY_GROUP)
    run_cli(home, "run", str(otel), str(gateway), str(canonical), env=EVERY_GROUP)
    costs = dict(query(home / "token_ledger.duckdb", "select request_id, cost_usd from restricted.fct_usage_events"))
    assert costs == {"req_1": Decimal("0.03"), "req_2": Decimal("0.18"), "req_3": None,
                     "req_4": Decimal("0.18"), "req_5": Decimal("0.03"), "req_otel_1": Decimal("0.18"),
                     "req_otel_2": Decimal("0.03"), "req_otel_3": Decimal("0.18"), "req_6": Decimal("0.033"),
                     "req_7": Decimal("0.198"), "req_8": Decimal("0.03"), "req_9": Decimal("0.033"),
                     "req_10": Decimal("0.06"), "req_11": Decimal("0.05"), "req_12": Decimal("0.03"),
                     "req_13": Decimal("0.03"), "req_otel_4": Decimal("0.033"), "req_otel_5": Decimal("0.03"),
                     "req_otel_6": Decimal("0.03"), "gw_1": Decimal("0.33"), "gw_2": Decimal("0.3"),
                     "gw_3": Decimal("0.33"), "gw_4": Decimal("0.3"), "gw_5": Decimal("0.03"), "gw_6": Decimal("0.3"),
                     "gw_7": Decimal("0.33"), "gw_8": Decimal("0.33"), "gw_10": Decimal("0.32"),
                     "gw_13": Decimal("0.3975"), "gw_14": Decimal("0.55"), "gw_16": Decimal("2.744"),
                     "gw_17": Decimal("0.058"), "gw_19": Decimal("0.00912"), "gw_20": Decimal("0.01824"),
                     "gw_21": Decimal("0.3"), "gw_22": Decimal("0.23625"), "gw_24": Decimal("0.23625"),
                     "c_1": Decimal("0.18"), "c_2": Decimal("0.033"), "c_3": Decimal("0.198"), "c_4": Decimal("0.06"),
                     "c_5": Decimal("0.03"), "c_6": Decimal("0.01"), "c_7": None, "c_8": Decimal("0.03"),
                     "c_9": Decimal("0.03")}
    clouds = query(home / "token_ledger.duckdb", "select request_id, provider from restricted.fct_usage_events "
                   "where provider <> 'anthropic' and request_id like 'req%' order by request_id")
    assert clouds == [("req_12", "bedrock"), ("req_13", "vertex_ai"), ("req_otel_4", "bedrock"),
                      ("req_otel_5", "bedrock"), ("req_otel_6", "vertex_ai")]
    assert quarantine(home, "transcripts")[("with-bad-line.jsonl", 7)] == (
        "missing both 'requestId' and 'message.id': the request cannot be told apart")
    assert quarantine(home, "gateway") == {
        ("with-bad-line.csv", 3): "field 'total_tokens' is not a whole number",
        ("with-bad-line.csv", 4): LITELLM_COUNT_REASON,
        ("with-bad-line.csv", 5): "field 'metadata' holds a 1-hour cache write count that is not a whole number "
                                  "or exceeds cache_creation_input_tokens",
        ("with-bad-line.csv", 6): LITELLM_COUNT_REASON,
        ("with-bad-line.csv", 7): "cached tokens exceed prompt_tokens"}
    assert quarantine(home, "canonical") == {
        ("clean.jsonl", 10): "audio tokens exceed input_tokens or output_tokens, of which they are a part"}
    assert query(home / "token_ledger.duckdb",
                 "select provider, model, unpriced_reason, requests from restricted.rpt_unpriced_usage order by all"
                 ) == [("anthropic", "claude-opus-4-8", "no_fast_mode_multiplier", 1),
                       ("openai", "gpt-4.1", "no_price_for_service_tier", 1)]
    # OpenRouter invoices it; Anthropic made the model
    focus = 'select distinct "InvoiceIssuerName", "PublisherName", "ServiceName" from fct_focus_costs'
    assert ("OpenRouter", "Anthropic", "OpenRouter") in query(home / "analytics.duckdb", focus)


def _report_result(input_tokens: int, output_tokens: int, **dimensions: str) -> dict:
    """One result of Anthropic's usage report (usage_report/messages) for Opus 4.6."""
    return {"uncached_input_tokens": input_tokens, "output_tokens": output_tokens, "cache_read_input_tokens": 0,
            "cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0},
            "model": "claude-opus-4-6", "service_tier": "standard", "context_window": "0-200k", **dimensions}


def test_a_usage_report_grouped_by_speed_and_inference_geo_keeps_every_result(tmp_path: Path) -> None:
    """The usage report may be grouped by speed and inference_geo (group_by[]): its results then
    differ by those alone. All of them count, and a fast result is priced at the fast multiple.
    One day of Opus 4.6 (list $5 / $25 per MTok, fast 6x): standard 1,000 + 1,000 tokens (0.03),
    fast 1,000 + 1,000 (0.18), standard with US-only inference 3,000 input (0.0165: 1.1 x
    0.015), and a result for one account, quarantined. A Claude Code event explains the fast
    result whole (0.18): the report's remainder is the two standard results, compared with
    standard events only. Before, the day was one row of the four (the account's, last)."""
    day = {"starting_at": "2026-10-05T00:00:00Z", "ending_at": "2026-10-06T00:00:00Z", "results": [
        _report_result(1000, 1000, speed="standard", inference_geo="global"),
        _report_result(1000, 1000, speed="fast", inference_geo="global"),
        _report_result(3000, 0, speed="standard", inference_geo="us"),
        _report_result(7000, 7000, speed="standard", inference_geo="global", account_id="user_01planted")]}
    report = tmp_path / "report"
    report.mkdir()
    (report / "by-speed.json").write_text(json.dumps({"data": [day], "has_more": False, "next_page": None}))
    otel = tmp_path / "otel"
    otel.mkdir()
    (otel / "fast.jsonl").write_text(_fast_mode_event(1, "fast") + "\n")
    home = tmp_path / "home"
    run_cli(home, "run", str(report), str(otel), env=EVERY_GROUP)
    costs = sorted(query(home / "token_ledger.duckdb",
                         "select request_id like 'bucket:%', input_tokens, output_tokens, cost_usd "
                         "from restricted.fct_usage_events"))
    assert costs == [(False, 1000, 1000, Decimal("0.18")), (True, 1000, 1000, Decimal("0.03")),
                     (True, 3000, 0, Decimal("0.0165"))]
    assert quarantine(home, "report") == {
        ("by-speed.json", 4): "broken out by 'account_id', which the ledger does not keep a usage report by: "
                              "fetch without group_by[]=account_id"}


def test_litellm_spendlogs_fixture(events: Landed) -> None:
    assert totals(events.home, "where source_format = 'litellm-spendlogs'") == LITELLM
    assert quarantine(events.home, "litellm-spendlogs") == {
        ("spendlogs.csv", 6): "field 'starttime' is not an ISO-8601 timestamp"}
    models = dict(query(events.home / "token_ledger.duckdb", "select request_id, model_id from "
                        "restricted.fct_usage_events where source_format = 'litellm-spendlogs'"))
    assert models == {"chatcmpl-001": "gpt-4.1", "chatcmpl-003": "claude-sonnet-4-5",
                      "chatcmpl-004": "gemini-2.5-flash"}


def test_bedrock_invocation_logs_fixture(events: Landed) -> None:
    """EXPECTED.md: three invocations priced at Anthropic's list prices, 10% more on a regional
    endpoint (a `us.` profile, a model in one Region) than on the global one, a failed one
    ignored, a bad count quarantined; no prompt or completion stored anywhere, the quarantine
    included."""
    home = events.home
    assert "landed 3 records" in events.printed["bedrock-invocation-logs"]
    assert "ignored 1 records" in events.printed["bedrock-invocation-logs"]
    assert totals(home, "where source_format = 'bedrock-invocation-logs'") == BEDROCK
    assert quarantine(home, "bedrock-invocation-logs") == {
        ("invocations.jsonl", 5): "field 'output_tokens' is negative"}
    assert query(home / "token_ledger.duckdb", "select team_id, model_id, sum(cost_usd) "
                 "from restricted.fct_usage_events where source_format = 'bedrock-invocation-logs' "
                 "group by 1, 2 order by 1, 2") == [
        ("T-PLATFORM", "claude-haiku-4-5", Decimal("0.00275")), ("T-PLATFORM", "claude-sonnet-4-5", Decimal("0.03465")),
        ("unattributed", "claude-haiku-4-5", Decimal("0.015"))]
    private = home / "token_ledger.duckdb"
    columns = query(private, "select table_schema, table_name, column_name from information_schema.columns "
                             "where data_type = 'VARCHAR'")
    found = [(schema, table, column) for schema, table, column in columns if query(
        private, f'select count(*) from "{schema}"."{table}" where contains("{column}", \'SECRET\')')[0][0]]
    assert found == []


def test_the_published_file_holds_every_fixtures_requests(events: Landed) -> None:
    expected = tuple(map(sum, zip(OTEL, ALICE, BOB, LITELLM, BEDROCK, strict=True)))[:6]  # people: two are in two
    assert totals(events.home)[:6] == expected
    assert published_totals(events.home) == expected


def _anthropic_billed(home: Path, bill: str) -> str:
    """Anthropic's usage report with its key owners, then its bill (a file of the cost report's
    fixture) days later; returns what the bill's run printed."""
    run_cli(home, "land", str(FIXTURES / "people"), env=EVERY_GROUP)
    run_cli(home, "run", str(FIXTURES / "anthropic-usage-report"), str(FIXTURES / "api-key-owners"), env=EVERY_GROUP)
    billed = run_cli(home, "run", str(FIXTURES / "anthropic-cost-report" / bill), env=EVERY_GROUP)
    return billed.out + billed.err


@pytest.fixture(scope="module")
def anthropic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Anthropic's usage report, billed by the cost report (`/v1/organizations/cost_report`)."""
    home = tmp_path_factory.mktemp("anthropic") / "home"
    _anthropic_billed(home, "page-1.json")
    return home


def test_anthropic_usage_report_fixture(anthropic: Path) -> None:
    # EXPECTED.md: input 4800; output 2220; cache read 120000; 5m 4000; no request counts
    assert totals(anthropic) == (0, 4800, 2220, 120000, 4000, 0, 0)
    assert published_totals(anthropic) == (0, 4800, 2220, 120000, 4000, 0)
    assert quarantine(anthropic, "anthropic-usage-report") == {
        ("page-2.json", 2): "field 'uncached_input_tokens' is negative", **ANALYTICS_USAGE_QUARANTINED}
    teams = dict(query(anthropic / "token_ledger.duckdb",
                       "select team_id, sum(input_tokens) from restricted.fct_usage_events group by 1"))
    assert teams == {"T-PLATFORM": 2500 + 800, "T-DATA": 500 + 1000}
    # the folder's analytics-usage.jsonl reports the same days, landed first: the pages' report stands
    assert query(anthropic / "token_ledger.duckdb",
                 "select distinct report_api from staging.stg_anthropic__usage_buckets") == [("usage_report",)]


# EXPECTED.md: the rows of analytics-usage.jsonl that usage cannot be kept by, at their places
ANALYTICS_USAGE_QUARANTINED = {
    ("analytics-usage.jsonl", 2): "covers more than one UTC day: fetch with time_bucket_width=1d",
    ("analytics-usage.jsonl", 3): "broken out by 'actor', which a usage report is not kept by: fetch with group_by[] "
                                  "of model, api_key_id, workspace_id, service_tier, context_window, speed, "
                                  "inference_geo only",
    ("analytics-usage.jsonl", 7): "field 'uncached_input_tokens' is negative"}


def test_the_analytics_apis_usage_pages_land_as_the_usage_report_does(tmp_path: Path) -> None:
    """The usage report's traffic fetched from the Usage and Cost Analytics API
    (`/v1/organizations/analytics/usage`, rows of a `group` and a `usage`): EXPECTED.md's totals,
    teams and costs, with the request counts this API adds, and its rows that usage cannot be
    kept by quarantined at their places, naming no value. Before, the file was quarantined
    whole. Landed again from the usage report later, each day still counts once."""
    home = tmp_path / "home"
    run_cli(home, "land", str(FIXTURES / "people"), env=EVERY_GROUP)
    landed = run_cli(home, "run", str(FIXTURES / "anthropic-usage-report" / "analytics-usage.jsonl"),
                     str(FIXTURES / "api-key-owners"), env=EVERY_GROUP)
    assert quarantine(home, "anthropic-usage-report") == ANALYTICS_USAGE_QUARANTINED
    assert "3 quarantined" in landed.out + landed.err and "PLANTED" not in landed.out + landed.err
    assert totals(home) == (5, 4800, 2220, 120000, 4000, 0, 0)
    assert published_totals(home) == (5, 4800, 2220, 120000, 4000, 0)
    teams = query(home / "token_ledger.duckdb", "select team_id, sum(requests), sum(input_tokens), sum(cost_usd) "
                  "from restricted.fct_usage_events group by 1 order by 1")
    assert teams == [("T-DATA", 2, 500 + 1000, Decimal("0.003") + Decimal("0.02625")),
                     ("T-PLATFORM", 3, 2500 + 800, Decimal("0.081") + Decimal("0.0014") + Decimal("0.01"))]
    # the same days landed later from the usage report: each counts once, from the API landed last
    run_cli(home, "run", str(FIXTURES / "anthropic-usage-report" / "page-1.json"),
            str(FIXTURES / "anthropic-usage-report" / "page-2.json"), env=EVERY_GROUP)
    assert totals(home) == (0, 4800, 2220, 120000, 4000, 0, 0)
    assert published_totals(home) == (0, 4800, 2220, 120000, 4000, 0)


@pytest.fixture(scope="module")
def openai(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("openai") / "home"
    run_cli(home, "land", str(FIXTURES / "people"), env=EVERY_GROUP)
    run_cli(home, "run", str(FIXTURES / "openai-usage"), str(FIXTURES / "api-key-owners"),
            str(FIXTURES / "openai-costs"), env=EVERY_GROUP)
    return home


def test_openai_usage_fixture(openai: Path) -> None:
    # EXPECTED.md: uncached input 24000; cache read 1000; output 4900; 52 requests; grace by user id
    assert totals(openai) == (52, 24000, 4900, 1000, 0, 0, 1)
    assert published_totals(openai) == (52, 24000, 4900, 1000, 0, 0)
    assert quarantine(openai, "openai-usage") == {("page-1.json", 3): "input_cached_tokens exceeds input_tokens"}
    owners = set(query(openai / "token_ledger.duckdb",
                       "select user_email, team_id, service_tier from restricted.fct_usage_events"))
    # T-RESEARCH is not a directory team: a label a source supplies is published only as a directory team
    assert owners == {("grace.hopper@corp.example", "unattributed", "standard"), (None, "unknown", "batch")}


def test_an_openai_usage_report_grouped_by_service_tier_and_api_source_keeps_every_result(tmp_path: Path) -> None:
    """OpenAI's completions usage may be grouped by service_tier and api_source (group_by): its
    results then differ by those alone. All of them count, each tier at its rates. One day of
    GPT-5 after 2026-10-12 (OpenAI's pricing page: standard $1.25 / $10 per MTok, flex $0.625 /
    $5, priority $2.50 / $20), 100,000 input and 10,000 output tokens at each tier: 0.225,
    0.1125, 0.45; and 40,000 input tokens of the Agents API, standard: 0.05. Before, the day was
    one row of the four (one of the standard ones)."""
    def result(tier: str, source: str, input_tokens: int, output_tokens: int) -> dict:
        return {"object": "organization.usage.completions.result", "input_tokens": input_tokens,
                "output_tokens": output_tokens, "input_cached_tokens": 0, "num_model_requests": 1,
                "project_id": None, "user_id": None, "api_key_id": None, "model": "gpt-5-2025-08-07", "batch": False,
                "service_tier": tier, "api_source": source}
    day = {"object": "bucket", "start_time": 1792454400, "end_time": 1792540800, "results": [  # 2026-10-20
        result("default", "unlabeled", 100_000, 10_000), result("flex", "unlabeled", 100_000, 10_000),
        result("priority", "unlabeled", 100_000, 10_000), result("default", "agents_api", 40_000, 0)]}
    report = tmp_path / "report"
    report.mkdir()
    (report / "by-tier.json").write_text(json.dumps({"object": "page", "data": [day], "has_more": False,
                                                     "next_page": None}))
    home = tmp_path / "home"
    run_cli(home, "run", str(report), env=EVERY_GROUP)
    costs = query(home / "token_ledger.duckdb", "select service_tier, sum(input_tokens), sum(cost_usd) "
                  "from restricted.fct_usage_events group by 1 order by 1")
    assert costs == [("flex", 100_000, Decimal("0.1125")), ("priority", 100_000, Decimal("0.45")),
                     ("standard", 140_000, Decimal("0.275"))]


BILL_ROWS = ("select usage_date, model_id, billed_cost_usd, computed_cost_usd, is_flagged from rpt_cost_reconciliation "
             "where billed_cost_usd is not null order by 1, 2")


def test_anthropic_cost_report_fixture(anthropic: Path) -> None:
    home = anthropic
    assert quarantine(home, "anthropic-cost-report") == {
        ("page-1.json", 10): "field 'amount' is not a number (up to 9 decimals, below 1e9)"}
    # EXPECTED.md: the bill against the usage priced by hand; Haiku's output billed 0.08 cents, not 0.06
    assert query(home / "analytics.duckdb", BILL_ROWS) == [
        (dt.date(2025, 10, 1), "claude-haiku-4-5", Decimal("0.0016"), Decimal("0.0014"), True),
        (dt.date(2025, 10, 1), "claude-sonnet-4-5", Decimal("0.084"), Decimal("0.084"), False),
        (dt.date(2025, 10, 1), "web_search", Decimal("0.01"), Decimal("0.01"), False),
        (dt.date(2025, 10, 2), "claude-opus-4-1", Decimal("0.02625"), Decimal("0.02625"), False),
    ]
    alerts = [json.loads(line) for f in (home / "alerts").glob("*.jsonl") for line in f.read_text().splitlines()]
    assert [(a["usage_date"], a["model_id"]) for a in alerts if a["kind"] == "bill_mismatch"] == [
        ("2025-10-01", "claude-haiku-4-5")]
    # the days already built are rebuilt with the bill: FOCUS BilledCost is what Anthropic billed
    focus = query(home / "analytics.duckdb", 'select cast("ChargePeriodStart" as date), "SkuId", sum("BilledCost"), '
                  'bool_and("x_BilledByProvider") from fct_focus_costs group by 1, 2 order by 1, 2')
    assert focus == [(dt.date(2025, 10, 1), "claude-haiku-4-5", Decimal("0.0016"), True),
                     (dt.date(2025, 10, 1), "claude-sonnet-4-5", Decimal("0.084") + Decimal("0.01"), True),
                     (dt.date(2025, 10, 2), "claude-opus-4-1", Decimal("0.02625"), True)]


def test_the_analytics_apis_cost_pages_bill_as_the_cost_report_does(tmp_path: Path) -> None:
    """The same bill fetched from the Usage and Cost Analytics API (`/v1/organizations/analytics/cost`,
    two pages of rows as JSON Lines): EXPECTED.md's reconciliation, and its rows that a bill cannot
    be made of quarantined at their places, naming no value. Landed again from the cost report,
    the bill still counts once."""
    home = tmp_path / "home"
    printed = _anthropic_billed(home, "analytics-cost.jsonl")
    assert quarantine(home, "anthropic-cost-report") == {
        ("analytics-cost.jsonl", 10): "broken out by 'actor', which a bill is not kept by: fetch with group_by[] of "
                                      "model, workspace_id, service_tier, context_window, cost_type, token_type, "
                                      "speed, inference_geo only",
        ("analytics-cost.jsonl", 11): "covers more than one UTC day: fetch with time_bucket_width=1d",
        ("analytics-cost.jsonl", 12): "field 'amount' is not a number (up to 9 decimals, below 1e9)"}
    assert query(home / "analytics.duckdb", BILL_ROWS) == [
        (dt.date(2025, 10, 1), "claude-haiku-4-5", Decimal("0.0016"), Decimal("0.0014"), True),
        (dt.date(2025, 10, 1), "claude-sonnet-4-5", Decimal("0.084"), Decimal("0.084"), False),
        (dt.date(2025, 10, 1), "web_search", Decimal("0.01"), Decimal("0.01"), False),
        (dt.date(2025, 10, 2), "claude-opus-4-1", Decimal("0.02625"), Decimal("0.02625"), False),
    ]
    assert "3 quarantined" in printed and "PLANTED" not in printed  # the actor's id is not printed
    # the same bill landed later from the cost report: each day counts once, from the API landed last
    run_cli(home, "run", str(FIXTURES / "anthropic-cost-report" / "page-1.json"), env=EVERY_GROUP)
    assert query(home / "analytics.duckdb", BILL_ROWS) == [
        (dt.date(2025, 10, 1), "claude-haiku-4-5", Decimal("0.0016"), Decimal("0.0014"), True),
        (dt.date(2025, 10, 1), "claude-sonnet-4-5", Decimal("0.084"), Decimal("0.084"), False),
        (dt.date(2025, 10, 1), "web_search", Decimal("0.01"), Decimal("0.01"), False),
        (dt.date(2025, 10, 2), "claude-opus-4-1", Decimal("0.02625"), Decimal("0.02625"), False),
    ]
    assert query(home / "token_ledger.duckdb", "select distinct bill_api from staging.stg_anthropic__cost_items"
                 ) == [("cost_report",)]


def test_a_usage_report_page_of_large_buckets_lands_whole(tmp_path: Path) -> None:
    """A page of a week's daily buckets (the API's default limit) for 600 keys x 5 models: 3,000
    results a bucket, 7.7 MB. Each bucket was read again for each of its results, and the file
    failed, out of memory, at the default limit. Tokens by formula: each day, result i has
    10 + i mod 7 input tokens (428 whole cycles of 0..6 and 0..3: 30,000 + 8,988 + 6)."""
    def result(i: int) -> dict:
        return {**_report_result(10 + i % 7, 1), "api_key_id": f"apikey_{i:05d}", "workspace_id": "wrkspc_01"}
    buckets = [{"starting_at": f"2026-10-{day:02d}T00:00:00Z", "ending_at": f"2026-10-{day + 1:02d}T00:00:00Z",
                "results": [result(i) for i in range(3000)]} for day in range(1, 8)]
    report = tmp_path / "report"
    report.mkdir()
    (report / "week.json").write_text(json.dumps({"data": buckets, "has_more": True, "next_page": "page_2"}))
    home = tmp_path / "home"
    printed = run_cli(home, "land", str(report))
    assert "landed 21000 records from 1 files" in printed.out and "failed" not in printed.out + printed.err
    assert query(home / "token_ledger.duckdb", "select count(distinct starting_at), sum(uncached_input_tokens), "
                 "sum(output_tokens) from raw.anthropic_usage_report") == [(7, 7 * (30000 + 8988 + 6), 7 * 3000)]


def test_a_bill_grouped_by_speed_and_inference_geo_keeps_every_part(tmp_path: Path) -> None:
    """The analytics cost endpoint grouped by speed and inference_geo (group_by[]) breaks a day's
    item into parts that differ by those alone: each is part of the bill. One day of Opus 4.6
    output: 2.5 cents standard, 15.0 fast, 2.75 US-only, so USD 0.2025; a fourth row, broken
    out by actor, is quarantined. Before, the three parts were quarantined as broken out by
    speed, and the day had no bill."""
    def row(amount: str, **group: str) -> dict:
        return {"starting_at": "2026-10-05T00:00:00Z", "ending_at": "2026-10-06T00:00:00Z",
                "group": {"model": "claude-opus-4-6", "workspace_id": None, "service_tier": "standard",
                          "context_window": "0-200k", "cost_type": "tokens", "token_type": "output_tokens",
                          "speed": "standard", "inference_geo": "global", "actor": None, **group},
                "cost": {"amount": amount, "currency": "USD", "list_amount": amount, "requests": None}}
    bill = tmp_path / "bill"
    bill.mkdir()
    (bill / "by-speed.json").write_text(json.dumps({"data": [
        row("15.0", speed="fast"), row("2.75", inference_geo="us"), row("2.5"), row("9.0", actor="user_01planted")],
        "has_more": False, "next_page": None}))
    home = tmp_path / "home"
    run_cli(home, "land", str(bill), env=EVERY_GROUP)
    run_cli(home, "build", env=EVERY_GROUP)
    assert quarantine(home, "bill") == {
        ("by-speed.json", 4): "broken out by 'actor', which a bill is not kept by: fetch with group_by[] of model, "
                              "workspace_id, service_tier, context_window, cost_type, token_type, speed, "
                              "inference_geo only"}
    assert query(home / "token_ledger.duckdb", "select bill_date, count(*), sum(billed_cost_usd) "
                 "from staging.stg_anthropic__cost_items group by 1") == [(dt.date(2026, 10, 5), 3, Decimal("0.2025"))]


def test_openai_costs_fixture(openai: Path) -> None:
    # EXPECTED.md: gpt-4.1 0.0157; gpt-4.1-mini batch at half price 0.0072; web search not a token cost
    assert query(openai / "analytics.duckdb", BILL_ROWS) == [
        (dt.date(2025, 10, 3), "gpt-4.1", Decimal("0.0157"), Decimal("0.0157"), False),
        (dt.date(2025, 10, 3), "gpt-4.1-mini", Decimal("0.0072"), Decimal("0.0072"), False),
    ]


def test_openai_usage_results_of_the_newer_breakdown_price_cache_writes_and_audio(tmp_path: Path) -> None:
    """OpenAI's usage API now breaks each result down (its API reference): input_tokens counts
    every modality, cached tokens and cache writes included; input_uncached_tokens is the rest;
    input_audio_tokens is the uncached audio. Its costs API names a modality in the line item
    ("gpt-realtime-mini audio, output"). One day, 2026-07-27, worked by hand from the providers'
    prices:
    - GPT-5.6 Terra ($2.50 input, $0.25 cached, writes 1.25 times input, $15 output per MTok):
      27,444 input of which 8,448 cached and 1,000 written, 1,000 output:
      17,996 x 2.5 + 8,448 x 0.25 + 1,000 x 3.125 + 1,000 x 15 = 0.065227;
    - gpt-realtime-mini (text $0.60 in, $0.06 cached, $2.40 out; audio $10 in, $20 out): 30,000
      input of which 10,000 cached text and 15,000 uncached audio, 6,000 output of which 5,000
      audio: 5,000 x 0.6 + 15,000 x 10 + 10,000 x 0.06 + 1,000 x 2.4 + 5,000 x 20 = 0.256;
    - a result whose cached tokens and cache writes (60 + 50) exceed its input (100): quarantined.
    The bill says the same, by line item. Before, the writes were priced as input (0.064602), the
    audio as text (0.027), and the modality's line items matched no model: the day was flagged."""
    def result(model: str, **tokens: int) -> dict:
        return {"object": "organization.usage.completions.result", "num_model_requests": 3, "project_id": None,
                "user_id": None, "api_key_id": None, "model": model, "batch": False, **tokens}
    usage = {"object": "page", "has_more": False, "next_page": None, "data": [
        {"object": "bucket", "start_time": 1785110400, "end_time": 1785196800, "results": [
            result("gpt-5.6-terra", input_tokens=27_444, input_cached_tokens=8_448, input_cache_write_tokens=1_000,
                   input_uncached_tokens=17_996, input_text_tokens=17_996, input_audio_tokens=0,
                   input_image_tokens=0, output_tokens=1_000, output_text_tokens=1_000, output_audio_tokens=0),
            result("gpt-realtime-mini", input_tokens=30_000, input_cached_tokens=10_000, input_cache_write_tokens=0,
                   input_uncached_tokens=20_000, input_text_tokens=5_000, input_audio_tokens=15_000,
                   input_cached_text_tokens=10_000, input_cached_audio_tokens=0, output_tokens=6_000,
                   output_text_tokens=1_000, output_audio_tokens=5_000),
            {**result("gpt-5.6-terra", input_tokens=100, input_cached_tokens=60, input_cache_write_tokens=50,
                      input_uncached_tokens=0, output_tokens=0), "project_id": "proj_other"}]}]}
    def item(line_item: str, value: float) -> dict:
        return {"object": "organization.costs.result", "amount": {"value": value, "currency": "usd"},
                "line_item": line_item, "project_id": "proj_research"}
    bill = {"object": "page", "has_more": False, "next_page": None, "data": [
        {"object": "bucket", "start_time": 1785110400, "end_time": 1785196800, "results": [
            item("gpt-5.6-terra, input", 0.04499), item("gpt-5.6-terra, cached input", 0.002112),
            item("gpt-5.6-terra, cache writes", 0.003125), item("gpt-5.6-terra, output", 0.015),
            item("gpt-realtime-mini text, input", 0.003), item("gpt-realtime-mini audio, input", 0.15),
            item("gpt-realtime-mini text, cached input", 0.0006), item("gpt-realtime-mini text, output", 0.0024),
            item("gpt-realtime-mini audio, output", 0.1)]}]}
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "usage.json").write_text(json.dumps(usage))
    (inputs / "costs.json").write_text(json.dumps(bill))
    home = tmp_path / "home"
    run_cli(home, "run", str(inputs), env=EVERY_GROUP)
    assert quarantine(home, "inputs") == {
        ("usage.json", 3): "input_cached_tokens and input_cache_write_tokens together exceed input_tokens"}
    assert query(home / "token_ledger.duckdb", "select model_id, sum(input_tokens), sum(cache_read_tokens), "
                 "sum(cache_write_5m_tokens), sum(output_tokens), sum(input_audio_tokens), sum(output_audio_tokens), "
                 "sum(cost_usd) from restricted.fct_usage_events group by 1 order by 1") == [
        ("gpt-5.6-terra", 17_996, 8_448, 1_000, 1_000, 0, 0, Decimal("0.065227")),
        ("gpt-realtime-mini", 20_000, 10_000, 0, 6_000, 15_000, 5_000, Decimal("0.256"))]
    assert query(home / "analytics.duckdb", BILL_ROWS) == [
        (dt.date(2026, 7, 27), "gpt-5.6-terra", Decimal("0.065227"), Decimal("0.065227"), False),
        (dt.date(2026, 7, 27), "gpt-realtime-mini", Decimal("0.256"), Decimal("0.256"), False)]


def _bill_by_key_with_embeddings() -> dict:
    """EXPECTED.md's bill grouped by api_key_id too, gpt-4.1's input (0.008) billed as 0.005 to one
    key and 0.003 to another, and 0.04 of text-embedding-3-small."""
    page = json.loads((FIXTURES / "openai-costs" / "page-1.json").read_text())
    split = [{**item, "api_key_id": "key_openai_1"} for item in page["data"][0]["results"]]
    first_input = next(item for item in split if item["line_item"] == "gpt-4.1-2025-04-14, input")
    first_input["amount"] = {"value": 0.005, "currency": "usd"}
    split.append({**first_input, "api_key_id": "key_openai_2", "amount": {"value": 0.003, "currency": "usd"}})
    split.append({"object": "organization.costs.result", "amount": {"value": 0.04, "currency": "usd"},
                  "line_item": "text-embedding-3-small, input", "project_id": "proj_research",
                  "api_key_id": "key_openai_1"})
    page["data"][0]["results"] = split
    return page


def test_embeddings_are_priced_and_a_bill_by_key_keeps_every_key(tmp_path: Path) -> None:
    """Embedding models have an input price and no output price (OpenAI's pricing page:
    text-embedding-3-small $0.02 per million tokens). The usage API's embeddings endpoint
    (results without output tokens) lands beside the completions fixture: 2,000,000 tokens of
    the fixture's day, USD 0.04. A LiteLLM embedding call of 500,000 tokens: USD 0.01. A result
    of another endpoint (images) is quarantined, saying so. The bill, grouped by API key too
    (each key's part counts), says 0.0157 for gpt-4.1 and 0.04 for the embeddings: both equal to
    the usage priced by hand. Before, the embeddings page was quarantined (no output_tokens),
    LiteLLM's call was unpriced, and one key's part of gpt-4.1's input was kept (flagged)."""
    page = {"object": "page", "has_more": False, "next_page": None, "data": [
        {"object": "bucket", "start_time": 1759449600, "end_time": 1759536000, "results": [  # 2025-10-03
            {"object": "organization.usage.embeddings.result", "input_tokens": 2_000_000, "num_model_requests": 150,
             "project_id": "proj_research", "user_id": None, "api_key_id": "key_openai_1",
             "model": "text-embedding-3-small"},
            {"object": "organization.usage.images.result", "images": 2, "num_model_requests": 2,
             "size": "1024x1024", "source": "image.generation", "project_id": "proj_research", "user_id": None,
             "api_key_id": "key_openai_1", "model": "gpt-image-1"}]}]}
    spend_logs = (FIXTURES / "litellm-spendlogs" / "spendlogs.csv").read_text().splitlines()[0] + (
        "\nemb-001,aembedding,88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b,0.01,500000,500000,0,"
        "2025-10-04 11:00:00.000,2025-10-04 11:00:01.000,text-embedding-3-small,text-embedding-3-small,openai,"
        "grace.hopper@corp.example,,team-ml,org-1,{},[],success\n")
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "embeddings.json").write_text(json.dumps(page))
    (inputs / "costs-by-key.json").write_text(json.dumps(_bill_by_key_with_embeddings()))
    (inputs / "spendlogs.csv").write_text(spend_logs)
    home = tmp_path / "home"
    run_cli(home, "land", str(FIXTURES / "people"), env=EVERY_GROUP)
    run_cli(home, "run", str(FIXTURES / "openai-usage"), str(FIXTURES / "api-key-owners"), str(inputs),
            env=EVERY_GROUP)
    assert quarantine(home, "inputs") == {
        ("embeddings.json", 2): "a result of another usage endpoint than completions and embeddings: "
                                "not token usage the ledger prices"}
    assert query(home / "token_ledger.duckdb", "select source_format, sum(input_tokens), sum(output_tokens), "
                 "sum(requests), sum(cost_usd), min(price_status) from restricted.fct_usage_events "
                 "where model_id = 'text-embedding-3-small' group by 1 order by 1") == [
        ("litellm-spendlogs", 500_000, 0, 1, Decimal("0.01"), "priced"),
        ("openai-usage", 2_000_000, 0, 150, Decimal("0.04"), "priced")]
    assert query(home / "analytics.duckdb", BILL_ROWS) == [
        (dt.date(2025, 10, 3), "gpt-4.1", Decimal("0.0157"), Decimal("0.0157"), False),
        (dt.date(2025, 10, 3), "gpt-4.1-mini", Decimal("0.0072"), Decimal("0.0072"), False),
        (dt.date(2025, 10, 3), "text-embedding-3-small", Decimal("0.04"), Decimal("0.04"), False),
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
    for folder in ("claude-code-otel", "litellm-spendlogs", "bedrock-invocation-logs", "anthropic-usage-report",
                   "openai-usage", "api-key-owners", "anthropic-cost-report", "openai-costs"):
        run_cli(home, "land", str(FIXTURES / folder))
    run_cli(home, "land", "--user", "alice.smith@corp.example", str(FIXTURES / "claude-code-jsonl" / "alice"))
    formats = {Path(f).parent.name: fmt for f, fmt in query(
        home / "token_ledger.duckdb", "select file_path, source_format from raw.load_batches")}
    assert formats == {"claude-code-otel": "claude-code-otel", "alice": "claude-code-jsonl",
                       "litellm-spendlogs": "litellm-spendlogs", "bedrock-invocation-logs": "bedrock-invocation-logs",
                       "anthropic-usage-report": "anthropic-usage-report",
                       "openai-usage": "openai-usage", "api-key-owners": "api-key-owners",
                       "anthropic-cost-report": "anthropic-cost-report", "openai-costs": "openai-costs"}


READERS = {
    "claude-code-otel": ("claude-code-otel-*.jsonl", otel_totals),
    "claude-code-jsonl": ("claude-code-jsonl/*/*.jsonl", transcript_totals),
    "litellm-spendlogs": ("litellm-spendlogs-*.csv", litellm_totals),
    "anthropic-usage-report": ("anthropic-usage-report-*.json", anthropic_report_totals),
    "openai-usage": ("openai-usage-*.json", openai_usage_totals),
}


# which home each generated format lands in, under which seed: the per-request formats in one,
# the transcripts under another seed than OTel's (one seed writes the same requests in both
# formats, which would count once) and without their people; the provider reports in the other,
# with no events to reconcile against
HOMES = {"claude-code-otel": ("events", 5), "claude-code-jsonl": ("events", 6), "litellm-spendlogs": ("events", 5),
         "anthropic-usage-report": ("reports", 5), "openai-usage": ("reports", 5)}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """Each source format generated (25 people, 3 days), landed and built: its home and its files."""
    root = tmp_path_factory.mktemp("generated")
    where = {}
    for fmt, (name, seed) in HOMES.items():
        home, out = root / name, root / fmt
        run_cli(home, "generate", "--out", str(out), "--users", "25", "--days", "3", "--format", fmt,
                "--seed", str(seed))
        if fmt == "claude-code-jsonl":  # everyone's folder in one call (test_landing_bulk: the same as one per person)
            run_cli(home, "land", "--owners", str(out / "transcript-users.csv"), str(out / "claude-code-jsonl"))
        else:
            run_cli(home, "land", str(out))
        where[fmt] = (home, out)
    for name in {name for name, _ in HOMES.values()}:
        run_cli(root / name, "build")
    return where


@pytest.mark.parametrize("fmt", list(READERS))
def test_generated_source_format_lands_whole(fmt: str, generated: dict[str, tuple[Path, Path]]) -> None:
    home, out = generated[fmt]
    pattern, reader = READERS[fmt]
    files = sorted(out.glob(pattern))
    assert files
    expected = reader(files)
    this_format = f"where source_format = '{fmt}'"
    actual = query(home / "token_ledger.duckdb",
                   "select sum(requests), sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), "
                   "sum(cache_write_5m_tokens + cache_write_1h_tokens) "
                   f"from restricted.fct_usage_events {this_format}")[0]
    assert dict(zip(KINDS, actual, strict=True)) == {k: expected.get(k, 0) for k in KINDS}
    assert query(home / "token_ledger.duckdb", f"select count(*) from raw.quarantine {this_format}") == [(0,)]
    assert query(home / "token_ledger.duckdb", f"select count(*) from restricted.fct_usage_events {this_format} "
                 "and price_status = 'unpriced'") == [(0,)]
