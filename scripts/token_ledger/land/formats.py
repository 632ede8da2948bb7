"""The format registry: everything the project knows about each input format, in one place.

One `LandingSpec` per format: how to recognise it (`detect`), how DuckDB's readers read it
(`reader`, `options`; `bulk`: many files at once), its fields and their rules (`fields`,
`checks`), its request key for dedup (`request_key`), the columns that identify a person
(`identity_columns`), its raw table (`table`), the column dating its records (`dated_by`, for
retention) and how its records read as usage for validation (`usage`). Detection, dedup,
validation, retention and erasure are generated from `FORMATS`; nothing else lists formats. Adding a format means one
entry here, its staging model and its fixtures.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import duckdb

from token_ledger.land import readers
from token_ledger.land.contents import data_suffix, first_character, is_framed, last_bytes, open_data
from token_ledger.land.fields import SQL_TYPES, Field, is_count, table_ddl


@dataclass(frozen=True)
class Detect:
    """How `--format auto` recognises a format from a file's first record."""

    # a CSV whose header holds all the columns of any of these sets
    csv_columns: tuple[frozenset[str], ...] = ()
    # a JSON object (a line, or a whole file) this predicate accepts
    json: Callable[[dict], bool] | None = None
    parquet: bool = False


@dataclass(frozen=True)
class Bulk:
    """How the bulk pass (`land.bulk`) reads many files of a format at once."""

    # SQL of the relation over `$files` (see `readers.bulk_jsonl`), given (con, fields, files)
    read: Callable[..., str]
    # the files it reads (the others, and any file it finds unclean, land the careful way)
    takes: Callable[[Path], bool] = lambda path: True
    # every line one record, all of them usage: inserted straight from the reader and numbered
    # by their place (else the records are read into a temp table first, with their lines)
    record_per_line: bool = True
    header_lines: int = 0  # lines before the first record (a CSV header)
    # a record may span lines (a quoted CSV field holding newlines: LiteLLM's stored prompts):
    # a file landing fewer records than lines is counted again by records (`contents.csv_records`)
    multiline_records: bool = False


@dataclass(frozen=True)
class LandingSpec:
    name: str
    table: str
    fields: list[Field]
    reader: Callable[..., readers.Read]  # the careful reader of one file
    detect: Detect
    needs_user: bool = False
    user_column: str | None = None
    # columns whose value is a person's email: the record is that person's (erased with them,
    # never landed for a person erased before); the first is the one landing filters on
    identity_columns: tuple[str, ...] = ()
    # columns that mention another person (a manager): emptied, not deleted, when that person is erased
    identity_references: tuple[str, ...] = ()
    # columns holding a person's GitHub login (the directory's `github_login` ties it to an email)
    login_columns: tuple[str, ...] = ()
    dated_by: str | None = None  # the column retention purges by
    options: dict = field(default_factory=dict)
    checks: list[tuple[str, str]] = field(default_factory=list)  # cross-field rules (condition, reason)
    # (provider, request id, occurred at) as SQL over the raw table's columns: a request landed
    # again, from any per-request format, is a replay or a correction (the repeat rule, below).
    # Landing stores text trimmed, '' as NULL, so the request id is a column (or a coalesce of
    # them), never a function of one: the lookup filters every landed request on it (10 M landed
    # events: 0.1 s on a column, 1 s through `trim`)
    request_key: tuple[str, str, str] | None = None
    # the record as usage (source_format, _batch_id, occurred_at, provider, the five token
    # counts, is_bucket), SQL over the raw table's columns: what validation checks
    usage: tuple[str, ...] | None = None
    # a request written several times stands at its largest usage, not its last copy (a streamed
    # transcript message: earlier lines carry part of the output; ccusage's rule)
    largest_stands: bool = False
    bulk: Bulk | None = None  # the bulk pass, for the formats of scheduled volume
    # the format whose lines a file of this one may hold too (an OTel Collector whose one `file`
    # exporter serves the logs and the metrics pipeline): the careful reader leaves them out
    # (`readers.Read.others`), and the file lands as that format as well
    companion: str | None = None

    @property
    def identity_column(self) -> str | None:
        return self.identity_columns[0] if self.identity_columns else None

    @property
    def usage_signature(self) -> str:
        """The record's token counts as one text, SQL over the raw table's columns: two records
        of one request with the same signature are a replay; different ones, a correction.
        Cache writes count as one figure (formats split them differently)."""
        inputs, outputs, reads, writes_5m, writes_1h = self.usage[4:9]
        return f"concat_ws('|', {inputs}, {outputs}, {reads}, {writes_5m} + {writes_1h})"

    @property
    def usage_total(self) -> str:
        """The record's tokens of every type added up, SQL over the raw table's columns: what
        `largest_stands` compares."""
        return "(" + " + ".join(self.usage[4:9]) + ")"

    def read(self, con: duckdb.DuckDBPyConnection, path: Path, lines: int) -> readers.Read:
        """The file's records, read the careful way (`readers.Read`)."""
        if self.reader is _canonical_reader:
            return self.reader(con, path, self.fields, lines=lines)
        return self.reader(con, path, self.fields, **self.options)

    def extra_columns(self, user_sql: str) -> tuple[list[str], list[str]]:
        """The person column of a format landed for a `--user` or `--owners` person, and the SQL
        of its value."""
        if self.user_column:
            return [self.user_column], [user_sql]
        return [], []

    def ddl(self, existing: set[str] | None = None) -> list[str]:
        """What brings the raw table to this declaration, given the columns it has (`existing`,
        None when there is no table): CREATE TABLE, or ADD COLUMN for fields added since an
        older warehouse was created and DROP COLUMN for the per-record file path older
        warehouses kept (the batch's `file_path` in raw.load_batches says the same once per file)."""
        if existing is None:
            return [table_ddl(self.table, self.fields, [self.user_column] if self.user_column else [])]
        statements = [f"alter table raw.{self.table} add column {f.name} {SQL_TYPES[f.kind]}"
                      for f in self.fields if f.name not in existing]
        if "_file" in existing:
            statements.append(f"alter table raw.{self.table} drop column _file")
        return statements


def layout(path: Path) -> str:
    """How a file of a format written as JSON or CSV (canonical records, LiteLLM spend logs) is
    written: 'parquet', 'jsonl' or 'csv', from its first bytes or else its name (a JSON Lines
    file whose first line is broken is still JSON Lines: its records land, that line is
    quarantined)."""
    with open_data(path) as handle:
        if handle.peek(4)[:4] == b"PAR1":
            return "parquet"
        first = next((line.strip() for line in handle if line.strip()), b"")
    if first.lstrip(b"\xef\xbb\xbf").startswith((b"{", b"[")) or data_suffix(path) in {".jsonl", ".ndjson", ".json"}:
        return "jsonl"
    return "csv"


def _canonical_reader(con: duckdb.DuckDBPyConnection, path: Path, fields: list[Field],
                      lines: int | None = None) -> readers.Read:
    written = layout(path)
    if written == "parquet":
        return readers.parquet(con, path, fields)
    if written == "jsonl":
        return readers.jsonl(con, path, fields, lines=lines)
    return readers.csv(con, path, fields)


def _ends_whole(path: Path) -> bool:
    """A JSON Lines file whose last line ends an object. One that ends otherwise was cut
    mid-line (its writer stopped, or is still writing it): it lands the careful way, which
    quarantines that line by its number. In the bulk pass it would fail the read, and the pass
    would be halved until the file was found (one such file among 3,857 transcripts: landing
    5.1 s -> 8.8 s; ten of them: 14.4 s). A compressed file is taken: its end is not known cheaply;
    but a Collector's framed zstd file, which DuckDB's readers do not read, is not."""
    end = last_bytes(path)
    if end is None:
        return not is_framed(path)
    return end.rstrip(b" \t\r\n").endswith(b"}")


# a file cut mid-line and written to this recently is being written: its writer is at it
STILL_WRITING_SECONDS = 300


def still_writing(path: Path) -> bool:
    """A text file its writer is still writing: changed within `STILL_WRITING_SECONDS` and cut
    mid-line (a JSON line not closed, a CSV row not whole, as `_ends_whole` and `_ends_line`
    read a file's end). A Collector's file exporter appends batch after batch to one file: a
    scheduled run that reads it mid-write would quarantine the last line, and alert on it, an
    hour before it lands whole. A file cut and left alone longer is cut for good."""
    end = last_bytes(path)
    if (not end or end.endswith(b"\n") or b"\0" in end or time.time() - path.stat().st_mtime > STILL_WRITING_SECONDS
            or is_framed(path)):  # text only: a Collector's framed zstd file ends in zstd's bytes
        return False
    written = layout(path)
    if written == "jsonl":
        return not end.rstrip(b" \t\r").endswith((b"}", b"]"))
    return written == "csv" and not readers.whole_csv_row(path, end.rsplit(b"\n", 1)[-1])


def _ends_line(path: Path) -> bool:
    """A CSV file whose last record is whole: it ends with a newline, or its last line (many
    exporters write no newline after it) has its quotes closed and as many fields as the
    header. A file that ends otherwise was cut mid-row: as `_ends_whole`, for rows (LiteLLM
    spend logs, one day cut short among ten: seven passes, halving). Sending every file
    without a final newline the careful way cost 31 whole LiteLLM days 22.6 s instead of 3.8 s.
    A last line that only looks whole costs the halving, never a record."""
    end = last_bytes(path)
    if end is None or not end or end.endswith(b"\n"):
        return True
    return readers.whole_csv_row(path, end.rsplit(b"\n", 1)[-1])


def _is_jsonl(path: Path) -> bool:
    """A canonical file the bulk pass reads: JSON Lines (a JSON array lands the careful way)."""
    return layout(path) == "jsonl" and first_character(path) != b"[" and _ends_whole(path)


def _is_csv(path: Path) -> bool:
    return layout(path) == "csv"


def _litellm_record(doc: dict) -> bool:
    return "call_type" in doc or "spend" in doc or "startTime" in doc


def _litellm_page(doc: dict) -> bool:
    """A page of the proxy's logs API (`/spend/logs/v2`, `/spend/logs/ui`): its records under
    `data`, beside `total`, `page`, `page_size` and `total_pages`; an empty page lands nothing."""
    data = doc.get("data")
    if not isinstance(data, list):
        return False
    if data:
        return isinstance(data[0], dict) and _litellm_record(data[0])
    return {"page_size", "total_pages"} <= doc.keys()


def _litellm_reader(con: duckdb.DuckDBPyConnection, path: Path, fields: list[Field]) -> readers.Read:
    if _is_csv(path):
        return readers.csv(con, path, fields)
    return readers.jsonl(con, path, fields, paths=LITELLM_PATHS)


def _exceeds(part: str, whole: str) -> str:
    """A part (cached tokens) larger than the whole it is part of, a missing whole counting as 0
    (as the staging models read it: the part subtracted from nothing made input negative and
    failed the build's test)."""
    return f"coalesce(try_cast({part} as bigint) > coalesce(try_cast({whole} as bigint), 0), false)"


def _report_page(*markers: str, empty: Callable[[dict], bool]) -> Callable[[dict], bool]:
    """A provider report page: a `data` array whose first buckets mention one of `markers`, or
    an empty page (`"data": []`) of that provider's shape (`empty`), which lands no records."""
    def matches(doc: dict) -> bool:
        data = doc.get("data")
        if not isinstance(data, list):
            return False
        return any(m in repr(data[:3]) for m in markers) or (not data and empty(doc))
    return matches


def _analytics_page(doc: dict, metric: str) -> bool:
    """A page of the Usage and Cost Analytics API: its first rows hold a `group` of dimensions and
    a `metric` object (`cost` or `usage`)."""
    data = doc.get("data")
    return isinstance(data, list) and any(
        isinstance(row, dict) and isinstance(row.get("group"), dict) and isinstance(row.get(metric), dict)
        for row in data[:3])


def _usage(fmt: str, occurred: str, provider: str, tokens: tuple[str, str, str, str, str],
           bucket: bool) -> tuple[str, ...]:
    return (f"'{fmt}'", "_batch_id", occurred, provider, *(f"coalesce({t}, 0)" for t in tokens), str(bucket).lower())


USAGE_COLUMNS = ["source_format", "_batch_id", "occurred_at", "provider", "input_tokens", "output_tokens",
                 "cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens", "is_bucket"]


# --- canonical: the project's own format -------------------------------------------------

CANONICAL_FIELDS = [
    Field("request_id", "text", required=True, mostly_unique=True),
    Field("occurred_at", "timestamp", required=True),
    Field("provider", "text", required=True, few_values=True),
    Field("model", "text", required=True, few_values=True),
    Field("user_email", "email", required=True),
    Field("application", "text", few_values=True),
    Field("session_id", "text"),
    Field("input_tokens", "count", required=True),
    Field("output_tokens", "count", required=True),
    Field("cache_read_tokens", "count"),
    Field("cache_write_5m_tokens", "count"),
    Field("cache_write_1h_tokens", "count"),
    Field("service_tier", "tier"),
    Field("reported_cost_usd", "decimal"),
    Field("tags", "json_object"),
    # optional, as Anthropic's Messages API reports them in usage: fast mode, where inference ran,
    # server-side web searches (each priced by its own rule: docs/prices.md)
    Field("speed", "text"),
    Field("inference_geo", "text"),
    Field("web_search_requests", "count"),
    # optional: the audio part of input_tokens and of output_tokens (OpenAI's realtime and audio
    # models, Gemini's audio input), priced at the model's audio rates
    Field("input_audio_tokens", "count"),
    Field("output_audio_tokens", "count"),
]
SPEEDS = ("standard", "fast")

# --- people: the directory -----------------------------------------------------------------

PEOPLE_FIELDS = [
    Field("email", "email", required=True),
    Field("full_name", "text"),
    Field("employee_id", "text"),
    Field("team_id", "text", required=True),
    Field("team_name", "text"),
    Field("cost_center", "text"),
    Field("manager_email", "email"),
    Field("valid_from", "date", required=True),
    Field("allowance_tier", "text"),  # optional: the person's budget allowance tier (default standard)
    Field("github_login", "text"),  # optional: the person's GitHub login (Copilot reports name people by it)
]

# --- claude-code-otel: OTLP/JSON log exports -------------------------------------------------

OTEL_FIELDS = [
    Field("request_id", "text", mostly_unique=True),
    Field("occurred_at", "timestamp", required=True),
    Field("session_id", "text"),
    Field("model", "text", required=True),
    Field("input_tokens", "count", required=True),
    Field("output_tokens", "count", required=True),
    Field("cache_read_tokens", "count"),
    Field("cache_creation_tokens", "count"),
    Field("cost_usd", "decimal"),
    Field("duration_ms", "decimal"),
    Field("user_email", "email", required=True),
    Field("account_uuid", "text"),
    Field("organization_id", "text"),
    Field("team_id", "text"),
    Field("cost_center", "text"),
    Field("speed", "text", few_values=True),  # "fast": fast mode (Claude Code 2.1.39 and later)
]

# --- claude-code-jsonl: Claude Code's session transcripts ---------------------------------------

TRANSCRIPT_FIELDS = [
    Field("message_id", "text", mostly_unique=True),
    Field("request_id", "text", mostly_unique=True),
    Field("occurred_at", "timestamp", required=True),
    Field("session_id", "text"),
    Field("version", "text"),
    Field("is_sidechain", "bool"),
    Field("model", "text", required=True),
    Field("input_tokens", "count", required=True),
    Field("output_tokens", "count", required=True),
    Field("cache_creation_input_tokens", "count"),
    Field("cache_read_input_tokens", "count"),
    Field("cache_write_5m_tokens", "count"),
    Field("cache_write_1h_tokens", "count"),
    Field("cost_usd", "decimal"),
    Field("speed", "text", few_values=True),  # "fast": Anthropic's fast mode, priced at a multiple
    Field("inference_geo", "text", few_values=True),  # "us": US-only inference, priced at a multiple
    Field("web_search_requests", "count"),  # server-side web searches, priced per search
]
TRANSCRIPT_PATHS = {
    "message_id": "$.message.id", "request_id": "$.requestId", "occurred_at": "$.timestamp",
    "session_id": "$.sessionId", "version": "$.version", "is_sidechain": "$.isSidechain", "model": "$.message.model",
    "input_tokens": "$.message.usage.input_tokens", "output_tokens": "$.message.usage.output_tokens",
    "cache_creation_input_tokens": "$.message.usage.cache_creation_input_tokens",
    "cache_read_input_tokens": "$.message.usage.cache_read_input_tokens",
    "cache_write_5m_tokens": "$.message.usage.cache_creation.ephemeral_5m_input_tokens",
    "cache_write_1h_tokens": "$.message.usage.cache_creation.ephemeral_1h_input_tokens",
    "cost_usd": "$.costUSD", "speed": "$.message.usage.speed",
    "inference_geo": "$.message.usage.inference_geo",
    "web_search_requests": "$.message.usage.server_tool_use.web_search_requests",
}
# a line whose message has usage (an object: `"usage": null` is none) and is not Claude Code's own
TRANSCRIPT_USAGE = (
    "coalesce(json_type(_raw, '$.message.usage') = 'OBJECT', false) "
    "and coalesce(json_extract_string(_raw, '$.message.model'), '') <> '<synthetic>'"
)

# the same, as the bulk reader reads a line (`readers.bulk_nested`)
TRANSCRIPT_BULK_USAGE = "message.usage is not null and coalesce(message.model, '') <> '<synthetic>'"

# --- bedrock-invocation-logs: Amazon Bedrock's model invocation logs -----------------------------

BEDROCK_FIELDS = [
    Field("request_id", "text", required=True, mostly_unique=True),
    Field("occurred_at", "timestamp", required=True),
    Field("account_id", "text", few_values=True),
    # the name the caller's ARN ends with (`readers.PRINCIPAL_NAME`); the ARN itself is not kept
    Field("caller", "identity"),
    Field("region", "text", few_values=True),
    Field("inference_region", "text", few_values=True),
    Field("operation", "text", few_values=True),
    Field("model_id", "text", required=True, few_values=True),
    Field("input_tokens", "count", required=True),
    Field("output_tokens", "count", required=True),
    Field("cache_read_tokens", "count"),
    Field("cache_write_tokens", "count"),
]
# the prompts and completions (`input.inputBodyJson`, `output.outputBodyJson`) are never read
BEDROCK_PATHS = {
    "request_id": "$.requestId", "occurred_at": "$.timestamp", "account_id": "$.accountId",
    "caller": "$.identity.arn", "region": "$.region", "inference_region": "$.inferenceRegion",
    "operation": "$.operation", "model_id": "$.modelId", "input_tokens": "$.input.inputTokenCount",
    "output_tokens": "$.output.outputTokenCount", "cache_read_tokens": "$.input.cacheReadInputTokenCount",
    "cache_write_tokens": "$.input.cacheWriteInputTokenCount",
}
# a failed invocation (an `errorCode`) is no usage: skipped, and counted as ignored; the same as
# the bulk reader reads a line, with the error code read beside the fields
BEDROCK_USAGE = "coalesce(json_type(_raw, '$.errorCode'), 'NULL') = 'NULL'"
BEDROCK_BULK_USAGE = '"errorCode" is null'
BEDROCK_BULK_PATHS = {**BEDROCK_PATHS, "error": "$.errorCode"}

# --- litellm-spendlogs: the LiteLLM proxy's LiteLLM_SpendLogs table ------------------------------

LITELLM_FIELDS = [
    Field("request_id", "text", required=True, mostly_unique=True),
    Field("call_type", "text"),
    Field("api_key", "text"),
    Field("spend", "decimal"),
    Field("total_tokens", "count"),
    Field("prompt_tokens", "count"),
    Field("completion_tokens", "count"),
    Field("starttime", "timestamp", required=True),
    Field("endtime", "timestamp"),
    Field("model", "text", required=True),
    Field("model_group", "text"),
    Field("custom_llm_provider", "text"),
    Field("api_base", "text"),  # the URL called: Vertex AI's names the endpoint's location
    Field("cache_hit", "text"),  # "True": served from the proxy's own cache, no provider call
    Field("user", "identity"),
    Field("end_user", "identity"),
    Field("team_id", "text"),
    Field("organization_id", "text"),
    Field("metadata", "text"),
    Field("request_tags", "text"),
    Field("status", "text"),
]
LITELLM_PATHS = {"starttime": "$.startTime", "endtime": "$.endTime"}
# cache tokens inside LiteLLM's prompt_tokens, from metadata.usage_object (OpenAI or Anthropic style;
# OpenAI's cache writes, GPT-5.6 and later: prompt_tokens_details.cache_write_tokens)
LITELLM_CACHED_PATHS = [f"$.usage_object.{path}" for path in (
    "prompt_tokens_details.cached_tokens", "cache_read_input_tokens", "cache_creation_input_tokens",
    "prompt_tokens_details.cache_write_tokens")]
# the part of the cache writes at the 1-hour TTL (Anthropic's usage.cache_creation, as LiteLLM keeps it)
LITELLM_ONE_HOUR_PATH = "$.usage_object.prompt_tokens_details.cache_creation_token_details.ephemeral_1h_input_tokens"
# the counts there the staging model reads: those, Anthropic's web searches and the audio tokens
LITELLM_COUNT_PATHS = [*LITELLM_CACHED_PATHS, "$.usage_object.server_tool_use.web_search_requests",
                       "$.usage_object.prompt_tokens_details.audio_tokens",
                       "$.usage_object.completion_tokens_details.audio_tokens"]
# `try(...)`: NULL where metadata is not JSON, as `try_cast(... as json)` gives, parsing the text
# once instead of twice (landing 842 k records: 1.57 s against 1.67 s for the insert)
LITELLM_CACHED = [f"try(json_extract_string(v_metadata, '{path}'))" for path in LITELLM_CACHED_PATHS]
LITELLM_ONE_HOUR = f"try(json_extract_string(v_metadata, '{LITELLM_ONE_HOUR_PATH}'))"
LITELLM_COUNTS_LIST = ("try(json_extract_string(v_metadata, ["
                       + ", ".join(f"'{path}'" for path in LITELLM_COUNT_PATHS) + "]))")
# OpenAI's cache writes, read only where the metadata names them (most records do not)
LITELLM_OPENAI_WRITES = (f"case when contains(v_metadata, 'cache_write_tokens') "
                         f"then try_cast({LITELLM_CACHED[3]} as bigint) end")
LITELLM_CACHED_SQL = (f"(coalesce(try_cast({LITELLM_CACHED[0]} as bigint), try_cast({LITELLM_CACHED[1]} as bigint), 0)"
                      f" + coalesce(try_cast({LITELLM_CACHED[2]} as bigint), {LITELLM_OPENAI_WRITES}, 0))")
LITELLM_PROVIDER = "lower(coalesce(nullif(trim(custom_llm_provider), ''), split_part(model, '/', 1)))"

# --- anthropic-usage-report: Admin API usage_report/messages pages ----------------------------------

ANTHROPIC_REPORT_FIELDS = [
    Field("starting_at", "timestamp", required=True),
    Field("ending_at", "timestamp", required=True),
    Field("model", "text", required=True),
    Field("api_key_id", "text"),
    Field("workspace_id", "text"),
    Field("service_tier", "text"),
    Field("context_window", "text"),
    Field("uncached_input_tokens", "count", required=True),
    Field("cache_creation_5m_tokens", "count"),
    Field("cache_creation_1h_tokens", "count"),
    Field("cache_read_input_tokens", "count"),
    Field("output_tokens", "count", required=True),
    Field("web_search_requests", "count"),
    # present when the report is grouped by them (group_by[]=speed, inference_geo): "fast" is
    # fast mode, priced at a multiple; "us" is US-only inference
    Field("speed", "text", few_values=True),
    Field("inference_geo", "text", few_values=True),
    Field("requests", "count"),  # rows of the analytics endpoint count them; the usage report does not
    Field("analytics", "bool"),  # true: a row of the Usage and Cost Analytics API (readers.ANALYTICS_USAGE_ROW)
]
ANTHROPIC_REPORT_PATHS = {
    "starting_at": "$.bucket.starting_at", "ending_at": "$.bucket.ending_at", "analytics": "$.bucket.analytics",
    "requests": "$.result.requests", "model": "$.result.model",
    "api_key_id": "$.result.api_key_id", "workspace_id": "$.result.workspace_id",
    "service_tier": "$.result.service_tier", "context_window": "$.result.context_window",
    "uncached_input_tokens": "$.result.uncached_input_tokens",
    "cache_creation_5m_tokens": "$.result.cache_creation.ephemeral_5m_input_tokens",
    "cache_creation_1h_tokens": "$.result.cache_creation.ephemeral_1h_input_tokens",
    "cache_read_input_tokens": "$.result.cache_read_input_tokens", "output_tokens": "$.result.output_tokens",
    "web_search_requests": "$.result.server_tool_use.web_search_requests",
    "speed": "$.result.speed", "inference_geo": "$.result.inference_geo",
}

# --- openai-usage: organization/usage/completions pages ----------------------------------------------

OPENAI_USAGE_FIELDS = [
    Field("start_time", "timestamp", required=True),
    Field("end_time", "timestamp", required=True),
    Field("model", "text", required=True),
    Field("project_id", "text"),
    Field("user_id", "text"),
    Field("api_key_id", "text"),
    Field("batch", "bool"),
    Field("input_tokens", "count", required=True),
    Field("input_cached_tokens", "count"),
    Field("output_tokens", "count", required=True),
    Field("input_audio_tokens", "count"),
    Field("output_audio_tokens", "count"),
    # the newer results' breakdown (OpenAI's API reference): input_tokens then counts every
    # modality, cache writes included; input_uncached_tokens is there, and input_audio_tokens
    # counts uncached audio only (docs/formats.md)
    Field("input_cache_write_tokens", "count"),
    Field("input_uncached_tokens", "count"),
    Field("num_model_requests", "count", required=True),
    # present when the report is grouped by them (group_by=service_tier, api_source): flex and
    # priority are priced at their tier's rates; api_source tells the Agents API's usage apart
    Field("service_tier", "text", few_values=True),
    Field("api_source", "text", few_values=True),
]
OPENAI_CACHED_AND_WRITTEN = ("coalesce(try_cast(v_input_cached_tokens as bigint), 0) "
                             "+ coalesce(try_cast(v_input_cache_write_tokens as bigint), 0)")
OPENAI_USAGE_PATHS = {
    "start_time": "$.bucket.start_time", "end_time": "$.bucket.end_time",
    **{f.name: f"$.result.{f.name}" for f in OPENAI_USAGE_FIELDS if f.name not in ("start_time", "end_time")},
}

# --- anthropic-cost-report: Admin API cost_report or analytics/cost pages (what the company is billed) --

ANTHROPIC_COST_FIELDS = [
    Field("starting_at", "timestamp", required=True),
    Field("ending_at", "timestamp", required=True),
    Field("amount", "decimal", required=True),  # cents, a decimal string
    Field("currency", "text"),
    Field("cost_type", "text"),
    Field("token_type", "text"),
    Field("model", "text"),
    Field("service_tier", "text"),
    Field("context_window", "text"),
    Field("workspace_id", "text"),
    Field("description", "text"),
    Field("analytics", "bool"),  # true: a row of the Usage and Cost Analytics API (readers.ANALYTICS_COST_ROW)
    # rows of the analytics API grouped by them (group_by[]=speed, inference_geo): parts of a bill
    Field("speed", "text", few_values=True),
    Field("inference_geo", "text", few_values=True),
]
ANTHROPIC_COST_PATHS = {
    "starting_at": "$.bucket.starting_at", "ending_at": "$.bucket.ending_at", "analytics": "$.bucket.analytics",
    **{f.name: f"$.result.{f.name}" for f in ANTHROPIC_COST_FIELDS
       if f.name not in ("starting_at", "ending_at", "analytics")},
}

# --- openai-costs: organization/costs pages (what the company is billed) ------------------------------

OPENAI_COST_FIELDS = [
    Field("start_time", "timestamp", required=True),
    Field("end_time", "timestamp", required=True),
    Field("amount_value", "decimal", required=True),  # USD
    Field("currency", "text"),
    Field("line_item", "text"),
    Field("project_id", "text"),
    Field("api_key_id", "text"),  # present when the costs are grouped by it (group_by=api_key_id)
]
OPENAI_COST_PATHS = {
    "start_time": "$.bucket.start_time", "end_time": "$.bucket.end_time", "amount_value": "$.result.amount.value",
    "currency": "$.result.amount.currency", "line_item": "$.result.line_item", "project_id": "$.result.project_id",
    "api_key_id": "$.result.api_key_id",
}

# --- api-key-owners: who owns each API key, for the bucketed reports -----------------------------------

KEY_TYPES = ("anthropic_api_key", "anthropic_workspace", "openai_api_key", "openai_project", "openai_user")
KEY_OWNER_FIELDS = [
    Field("key_type", "text", required=True),
    Field("key_id", "text", required=True),
    Field("owner_email", "email"),
    Field("team_id", "text"),
    Field("cost_center", "text"),
    Field("valid_from", "date"),
]


# --- claude-code-otel-metrics: OTLP/JSON metrics, the outcome counters -------------------------

OUTCOME_METRICS = (
    "claude_code.session.count", "claude_code.commit.count", "claude_code.pull_request.count",
    "claude_code.lines_of_code.count", "claude_code.code_edit_tool.decision", "claude_code.active_time.total",
)
OTEL_METRIC_FIELDS = [
    Field("metric", "text", required=True, few_values=True),
    Field("aggregation_temporality", "count", required=True),
    Field("started_at", "timestamp"),
    Field("occurred_at", "timestamp", required=True),
    Field("value", "decimal", required=True),
    Field("user_email", "email", required=True),
    Field("session_id", "text"),
    Field("type", "text"),
    Field("decision", "text"),
    Field("resource_attributes", "text"),
    Field("point_attributes", "text"),
]
OTEL_METRIC_ATTRIBUTES = {"user_email": "user.email", "session_id": "session.id", "type": "type",
                          "decision": "decision"}

# --- claude-code-analytics: the Claude Code Analytics Admin API's daily rows ----------------------

ANALYTICS_FIELDS = [
    Field("date", "date", required=True),
    Field("actor_type", "text", required=True),
    Field("email_address", "email"),
    Field("api_key_name", "text"),
    Field("organization_id", "text"),
    Field("terminal_type", "text"),
    Field("num_sessions", "count"),
    Field("lines_added", "count"),
    Field("lines_removed", "count"),
    Field("commits", "count"),
    Field("pull_requests", "count"),
    Field("tool_actions", "json_object"),
    Field("model_breakdown", "text"),
]
ANALYTICS_PATHS = {
    "date": "$.date", "actor_type": "$.actor.type", "email_address": "$.actor.email_address",
    "api_key_name": "$.actor.api_key_name", "organization_id": "$.organization_id",
    "terminal_type": "$.terminal_type", "num_sessions": "$.core_metrics.num_sessions",
    "lines_added": "$.core_metrics.lines_of_code.added", "lines_removed": "$.core_metrics.lines_of_code.removed",
    "commits": "$.core_metrics.commits_by_claude_code", "pull_requests": "$.core_metrics.pull_requests_by_claude_code",
    "tool_actions": "$.tool_actions", "model_breakdown": "$.model_breakdown",
}


def _negative(name: str) -> tuple[str, str]:
    """A check for a decimal field that cannot be below zero (a count with decimals)."""
    return f"try_cast(trim(v_{name}) as decimal(18, 9)) < 0", f"field '{name}' is negative"


def _not_count(value: str) -> str:
    """SQL true where `value`, a count nested in a JSON field, is there and not a valid count."""
    return f"({value} is not null and not {is_count(value)})"


def _any_in(items: str, item: str, condition: str) -> str:
    """SQL true where `condition` holds for one of the list `items` (each named `item`)."""
    return f"coalesce(list_bool_or(list_transform({items}, lambda {item}: {condition})), false)"


# the counts nested in its JSON fields, as the staging models read them: one of another shape
# (a negative or decimal number, an object) would fail the build
TOOL_ACTIONS, BREAKDOWN = "try_cast(v_tool_actions as json)", "try_cast(v_model_breakdown as json)"
ENTRIES = f"""from_json({BREAKDOWN}, '["json"]')"""
COST = "entry -> 'estimated_cost' ->> 'amount'"
BREAKDOWN_BAD = " or ".join([*(_not_count(f"entry -> 'tokens' ->> '{k}'") for k in ("input", "output", "cache_read",
                                                                                      "cache_creation")),
                              f"({COST} is not null and try_cast({COST} as decimal(18, 9)) is null)"])
ANALYTICS_CHECKS = [
    (_any_in(f"json_keys({TOOL_ACTIONS})", "tool",
             " or ".join(_not_count(f"{TOOL_ACTIONS} -> tool ->> '{k}'") for k in ("accepted", "rejected"))),
     "field 'tool_actions' holds an accepted or rejected count that is not a whole number"),
    (f"nullif(trim(v_model_breakdown), '') is not null and coalesce(json_type({BREAKDOWN}), '') <> 'ARRAY'",
     "field 'model_breakdown' is not a JSON array"),
    (f"case when json_type({BREAKDOWN}) = 'ARRAY' then "
     f"{_any_in(ENTRIES, 'entry', BREAKDOWN_BAD)} else false end",
     "field 'model_breakdown' holds a token count that is not a whole number, or a cost that is not a number"),
]

# --- copilot-metrics: GitHub Copilot's users-1-day report (NDJSON) ---------------------------------

COPILOT_FIELDS = [
    Field("day", "date", required=True),
    Field("user_id", "text"),
    Field("user_login", "identity", required=True),
    Field("code_generation_activity_count", "count"),
    Field("code_acceptance_activity_count", "count"),
    Field("loc_added_sum", "count"),
    Field("loc_deleted_sum", "count"),
    Field("session_count", "count"),
    Field("prompt_tokens_sum", "count"),
    Field("output_tokens_sum", "count"),
    Field("ai_credits_used", "decimal"),
]
COPILOT_PATHS = {
    "session_count": "$.totals_by_cli.session_count",
    "prompt_tokens_sum": "$.totals_by_cli.token_usage.prompt_tokens_sum",
    "output_tokens_sum": "$.totals_by_cli.token_usage.output_tokens_sum",
}


def _is_transcript(doc: dict) -> bool:
    return ("sessionId" in doc or ("message" in doc and "uuid" in doc)
            or doc.get("type") in ("summary", "user", "assistant"))


# the registry; `--format auto` tries the entries in this order
FORMATS: dict[str, LandingSpec] = {
    "canonical": LandingSpec(
        "canonical", "canonical_events", CANONICAL_FIELDS, _canonical_reader,
        Detect(csv_columns=(frozenset({"request_id", "occurred_at"}),),
               json=lambda d: "occurred_at" in d and "request_id" in d, parquet=True),
        identity_columns=("user_email",), dated_by="occurred_at", bulk=Bulk(readers.bulk_jsonl, _is_jsonl),
        request_key=("lower(provider)", "request_id", "occurred_at"),
        checks=[(f"lower(nullif(trim(v_speed), '')) not in ({', '.join(map(repr, SPEEDS))})",
                 f"field 'speed' is not one of {', '.join(SPEEDS)}"),
                (f"{_exceeds('v_input_audio_tokens', 'v_input_tokens')} "
                 f"or {_exceeds('v_output_audio_tokens', 'v_output_tokens')}",
                 "audio tokens exceed input_tokens or output_tokens, of which they are a part")],
        usage=_usage("canonical", "occurred_at", "lower(provider)", ("input_tokens", "output_tokens",
                     "cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens"), bucket=False)),
    "people": LandingSpec(
        "people", "people", PEOPLE_FIELDS, readers.csv,
        Detect(csv_columns=(frozenset({"email", "team_id", "valid_from"}),)),
        identity_columns=("email",), identity_references=("manager_email",)),
    "claude-code-otel": LandingSpec(
        "claude-code-otel", "claude_code_otel_events", OTEL_FIELDS, readers.otel,
        Detect(json=lambda d: "resourceLogs" in d),
        identity_columns=("user_email",), dated_by="occurred_at",
        bulk=Bulk(readers.bulk_otel, _ends_whole, record_per_line=False),
        companion="claude-code-otel-metrics",
        request_key=("'anthropic'", "request_id", "occurred_at"),
        usage=_usage("claude-code-otel", "occurred_at", "'anthropic'", ("input_tokens", "output_tokens",
                     "cache_read_tokens", "cache_creation_tokens", "0"), bucket=False)),
    "claude-code-jsonl": LandingSpec(
        "claude-code-jsonl", "claude_code_transcript_messages", TRANSCRIPT_FIELDS, readers.jsonl,
        Detect(json=_is_transcript),
        needs_user=True, user_column="user_email", identity_columns=("user_email",), dated_by="occurred_at",
        options={"paths": TRANSCRIPT_PATHS, "where": TRANSCRIPT_USAGE}, largest_stands=True,
        bulk=Bulk(partial(readers.bulk_nested, paths=TRANSCRIPT_PATHS, usage=TRANSCRIPT_BULK_USAGE), _ends_whole,
                  record_per_line=False),
        request_key=("'anthropic'", "coalesce(request_id, message_id)", "occurred_at"),
        # a usage line naming neither would land with no request key (a NULL event id fails the build)
        checks=[("coalesce(nullif(trim(v_request_id), ''), nullif(trim(v_message_id), '')) is null",
                 "missing both 'requestId' and 'message.id': the request cannot be told apart")],
        usage=_usage("claude-code-jsonl", "occurred_at", "'anthropic'", ("input_tokens", "output_tokens",
                     "cache_read_input_tokens", "cache_creation_input_tokens", "0"), bucket=False)),
    "litellm-spendlogs": LandingSpec(
        "litellm-spendlogs", "litellm_spend_logs", LITELLM_FIELDS, _litellm_reader,
        Detect(csv_columns=(frozenset({"call_type", "spend"}), frozenset({"request_id", "starttime"})),
               json=lambda d: _litellm_record(d) or _litellm_page(d)),
        identity_columns=("user", "end_user"), dated_by="starttime",
        bulk=Bulk(readers.bulk_csv, lambda path: _is_csv(path) and _ends_line(path), header_lines=1,
                  multiline_records=True),
        request_key=(LITELLM_PROVIDER, "request_id", "starttime"),
        checks=[(_exceeds("v_cached", "v_prompt_tokens").replace("v_cached", LITELLM_CACHED_SQL),
                 "cached tokens exceed prompt_tokens"),
                # a negative or decimal count there made input tokens wrong, or negative (the build's test)
                # (all read in one pass over the JSON: one extraction each cost 0.76 s of a 3 s landing)
                (_any_in(LITELLM_COUNTS_LIST, "part", _not_count("part")),
                 "field 'metadata' holds a cached token, web search or audio token count that is not a whole number"),
                # the 1-hour part of the cache writes: a count, and no larger than them (the 5-minute part
                # would be below zero); read only where the metadata names it (read from every record,
                # with the whole-number rule in the list above, it cost about 0.2 s of a 2.9 s landing)
                (f"case when contains(v_metadata, 'ephemeral_1h_input_tokens') then "
                 f"{_not_count(LITELLM_ONE_HOUR)} or {_exceeds(LITELLM_ONE_HOUR, LITELLM_CACHED[2])} else false end",
                 "field 'metadata' holds a 1-hour cache write count that is not a whole number or exceeds "
                 "cache_creation_input_tokens")],
        usage=_usage("litellm-spendlogs", "starttime", LITELLM_PROVIDER,
                     ("prompt_tokens", "completion_tokens", "0", "0", "0"), bucket=False)),
    "bedrock-invocation-logs": LandingSpec(
        "bedrock-invocation-logs", "bedrock_invocation_logs", BEDROCK_FIELDS, readers.bedrock,
        Detect(json=lambda d: d.get("schemaType") == "ModelInvocationLog"),
        identity_columns=("caller",), dated_by="occurred_at",
        options={"paths": BEDROCK_PATHS, "where": BEDROCK_USAGE},
        bulk=Bulk(partial(readers.bulk_nested, paths=BEDROCK_BULK_PATHS, usage=BEDROCK_BULK_USAGE,
                          derived={"caller": readers.PRINCIPAL_NAME}), _ends_whole, record_per_line=False),
        request_key=("'bedrock'", "request_id", "occurred_at"),
        usage=_usage("bedrock-invocation-logs", "occurred_at", "'bedrock'", ("input_tokens", "output_tokens",
                     "cache_read_tokens", "cache_write_tokens", "0"), bucket=False)),
    # the bills before the usage reports: a cost page also has buckets with starting_at / start_time
    "anthropic-cost-report": LandingSpec(
        "anthropic-cost-report", "anthropic_cost_report", ANTHROPIC_COST_FIELDS, readers.anthropic_cost,
        Detect(json=lambda d: _report_page("'cost_type'", "'token_type'", empty=lambda d: False)(d)
               or _analytics_page(d, "cost")),
        dated_by="starting_at", options={"paths": ANTHROPIC_COST_PATHS}),
    "openai-costs": LandingSpec(
        "openai-costs", "openai_costs", OPENAI_COST_FIELDS, readers.openai_costs,
        Detect(json=_report_page("'line_item'", "organization.costs.result", empty=lambda d: False)),
        dated_by="start_time", options={"paths": OPENAI_COST_PATHS}),
    "anthropic-usage-report": LandingSpec(
        "anthropic-usage-report", "anthropic_usage_report", ANTHROPIC_REPORT_FIELDS, readers.anthropic_report,
        # an empty Anthropic page: has_more / next_page, no OpenAI "object"
        Detect(json=_report_page("uncached_input_tokens", "starting_at",
                                 empty=lambda d: "has_more" in d and "object" not in d)),
        dated_by="starting_at", options={"paths": ANTHROPIC_REPORT_PATHS},
        usage=_usage("anthropic-usage-report", "starting_at", "'anthropic'", ("uncached_input_tokens",
                     "output_tokens", "cache_read_input_tokens", "cache_creation_5m_tokens",
                     "cache_creation_1h_tokens"), bucket=True)),
    "openai-usage": LandingSpec(
        "openai-usage", "openai_usage", OPENAI_USAGE_FIELDS, readers.openai_usage,
        Detect(json=_report_page("num_model_requests", "start_time", empty=lambda d: d.get("object") == "page")),
        dated_by="start_time", options={"paths": OPENAI_USAGE_PATHS},
        checks=[(_exceeds("v_input_cached_tokens", "v_input_tokens"), "input_cached_tokens exceeds input_tokens"),
                (_exceeds(OPENAI_CACHED_AND_WRITTEN, "v_input_tokens"),
                 "input_cached_tokens and input_cache_write_tokens together exceed input_tokens")],
        usage=_usage("openai-usage", "start_time", "'openai'",
                     ("input_tokens", "output_tokens", "input_cached_tokens", "input_cache_write_tokens", "0"),
                     bucket=True)),
    "claude-code-otel-metrics": LandingSpec(
        "claude-code-otel-metrics", "claude_code_otel_metric_points", OTEL_METRIC_FIELDS, readers.otel_metrics,
        Detect(json=lambda d: "resourceMetrics" in d),
        identity_columns=("user_email",), dated_by="occurred_at",
        options={"metrics": OUTCOME_METRICS, "attributes": OTEL_METRIC_ATTRIBUTES}, companion="claude-code-otel",
        # the outcome metrics are counters: a negative point failed the build's test
        checks=[_negative("value")]),
    "claude-code-analytics": LandingSpec(
        "claude-code-analytics", "claude_code_analytics_days", ANALYTICS_FIELDS, readers.analytics_report,
        Detect(json=_report_page("core_metrics", "terminal_type", empty=lambda d: False)),
        identity_columns=("email_address",), dated_by="date", options={"paths": ANALYTICS_PATHS},
        checks=ANALYTICS_CHECKS),
    "copilot-metrics": LandingSpec(
        "copilot-metrics", "copilot_user_days", COPILOT_FIELDS, readers.jsonl,
        Detect(json=lambda d: "user_login" in d and "day" in d),
        login_columns=("user_login",), dated_by="day", options={"paths": COPILOT_PATHS},
        # credits are used, never given back: a negative amount failed the build's test
        checks=[_negative("ai_credits_used")]),
    "api-key-owners": LandingSpec(
        "api-key-owners", "api_key_owners", KEY_OWNER_FIELDS, readers.csv,
        Detect(csv_columns=(frozenset({"key_type", "key_id"}),)),
        identity_columns=("owner_email",),
        # the key types staging's accepted_values test knows: another (a typo) failed the build
        checks=[(f"lower(trim(v_key_type)) not in ({', '.join(map(repr, KEY_TYPES))})",
                 f"field 'key_type' is not one of {', '.join(KEY_TYPES)}")]),
}


def request_keys(ids: str | None = None) -> str:
    """Every per-request record already landed, whatever its format, with its usage signature
    (the repeat rule); with `ids` (a relation with a `request_id` column), only the requests it
    names, each raw table filtered on its own column: DuckDB does not push that filter through
    the union (at 10 M landed events, a day's lookup took 1.6 s through it, 0.1 s so). Records
    of a landing that has not finished (`raw.pending_batches`) are not landed: a landing that
    failed and could not remove them (a full disk) must not make them replays of the files'
    next landing, whose records would then be lost with them."""
    selects = [
        f"select {provider} as provider, {request_id} as request_id, {occurred} as occurred_at, "
        f"{spec.usage_signature} as usage_signature, {spec.usage_total} as usage_total, _batch_id, _loaded_at "
        f"from raw.{spec.table} where {request_id} is not null"
        + (f" and {request_id} in (select request_id from {ids})" if ids else "")
        + " and _batch_id not in (select batch_id from raw.pending_batches)"
        for spec in FORMATS.values() if spec.request_key
        for provider, request_id, occurred in [spec.request_key]
    ]
    return "\nunion all\n".join(selects)


def request_keys_view() -> str:
    """`raw.request_keys`: `request_keys()` as a view."""
    return "create or replace view raw.request_keys as\n" + request_keys()


# The repeat rule (docs/formats.md, "Replays and corrections"). A request landed again (the same
# provider and request id, from any per-request format, on any day) is a replay when its token
# counts are the same, and is ignored; with other counts on the same UTC day it is the provider's
# correction, and replaces the landed record (whatever its format). Within one file the last copy
# of a request stands. A format with `largest_stands` (transcripts: a streamed message is written
# several times, earlier lines with part of its output) keeps a request at its largest usage
# instead: within a file the largest copy stands, and a later copy is a correction only when it is
# larger. A repeat dated another day is a replay: a correction never moves a request to another
# day. Both landing paths apply it; this module holds its two shared parts,
# `LandingSpec.usage_signature` and `replace_corrected`.


def replace_corrected(con: duckdb.DuckDBPyConnection, corrected: str, keep: str) -> int:
    """Delete the landed records that corrections replace: `corrected` is a relation of
    (provider, request_id); rows matching `keep` (the new batch's own) stay. Returns the count.
    Without corrections nothing is read (each delete scans its whole raw table)."""
    removed = 0
    if not con.execute(f"select count(*) from (select 1 from {corrected} limit 1)").fetchone()[0]:
        return removed
    for spec in FORMATS.values():
        if not spec.request_key:
            continue
        provider, request_id, _ = spec.request_key
        removed += con.execute(
            f"delete from raw.{spec.table} where {provider} || '|' || {request_id} in "
            f"(select provider || '|' || request_id from {corrected}) and not ({keep})"
        ).fetchone()[0]
    return removed


def landed_usage_sql() -> str:
    """Every landed usage record, whatever its format, in one shape (no personal columns)."""
    return "\nunion all\n".join(
        "select " + ", ".join(f"{expr} as {name}" for expr, name in zip(spec.usage, USAGE_COLUMNS, strict=True))
        + f" from raw.{spec.table}"
        for spec in FORMATS.values() if spec.usage
    )
