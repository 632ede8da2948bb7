"""The input formats `land` understands: where each lands and how it is read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from token_ledger.land import readers
from token_ledger.land.fields import (
    ANTHROPIC_REPORT_FIELDS,
    ANTHROPIC_REPORT_PATHS,
    CANONICAL_FIELDS,
    KEY_OWNER_FIELDS,
    LITELLM_FIELDS,
    LITELLM_PATHS,
    OPENAI_USAGE_FIELDS,
    OPENAI_USAGE_PATHS,
    OTEL_FIELDS,
    PEOPLE_FIELDS,
    SQL_TYPES,
    TRANSCRIPT_FIELDS,
    TRANSCRIPT_PATHS,
    Field,
    table_ddl,
)


@dataclass(frozen=True)
class LandingSpec:
    name: str
    table: str
    fields: list[Field]
    reader: Callable[[duckdb.DuckDBPyConnection, Path, list[Field]], list[tuple[str, str]]]
    needs_user: bool = False
    user_column: str | None = None
    identity_column: str | None = None  # erased people's records with this email never land
    options: dict = field(default_factory=dict)
    checks: list[tuple[str, str]] = field(default_factory=list)  # cross-field rules (condition, reason)
    # (provider, request id, occurred at) of a landed record, as SQL over `checked`: a request
    # already landed, from any per-request format, is not landed again (first landed wins)
    request_key: tuple[str, str, str] | None = None

    def read(self, con: duckdb.DuckDBPyConnection, path: Path, lines: int) -> list[tuple[str, str]]:
        if self.reader is _canonical_reader:
            return self.reader(con, path, self.fields, lines=lines)
        return self.reader(con, path, self.fields, **self.options)

    def extra_columns(self, user: str | None) -> tuple[list[str], list[str]]:
        if self.user_column:
            return [self.user_column], ["$user"]
        return [], []

    def ddl(self) -> list[str]:
        """CREATE TABLE, then ADD COLUMN for fields added since an older warehouse was created,
        and DROP COLUMN for the per-record file path older warehouses kept (the batch's
        `file_path` in raw.load_batches says the same once per file)."""
        statements = [table_ddl(self.table, self.fields, [self.user_column] if self.user_column else [])]
        statements += [f"alter table raw.{self.table} add column if not exists {f.name} {SQL_TYPES[f.kind]}"
                       for f in self.fields]
        statements.append(f"alter table raw.{self.table} drop column if exists _file")
        return statements


def canonical_layout(path: Path) -> str:
    """How a canonical file is written: 'parquet', 'jsonl' or 'csv' (from its first bytes)."""
    with path.open("rb") as handle:
        if handle.read(4) == b"PAR1":
            return "parquet"
        handle.seek(0)
        first = next((line.strip() for line in handle if line.strip()), b"")
    if first.startswith(b"{") or path.suffix.lower() in {".jsonl", ".ndjson", ".json"}:
        return "jsonl"
    return "csv"


def _canonical_reader(con: duckdb.DuckDBPyConnection, path: Path, fields: list[Field],
                      lines: int | None = None) -> list[tuple[str, str]]:
    layout = canonical_layout(path)
    if layout == "parquet":
        return readers.parquet(con, path, fields)
    if layout == "jsonl":
        return readers.jsonl(con, path, fields, lines=lines)
    return readers.csv(con, path, fields)


def _litellm_reader(con: duckdb.DuckDBPyConnection, path: Path, fields: list[Field]) -> list[tuple[str, str]]:
    with path.open("rb") as handle:
        first = handle.read(1)
    if first == b"{":
        return readers.jsonl(con, path, fields, paths=LITELLM_PATHS)
    return readers.csv(con, path, fields)


def _exceeds(part: str, whole: str) -> str:
    return f"coalesce(try_cast({part} as bigint) > try_cast({whole} as bigint), false)"


# cache tokens inside LiteLLM's prompt_tokens, from metadata.usage_object (OpenAI or Anthropic style)
LITELLM_CACHED_SQL = (
    "(coalesce(try_cast(json_extract_string(try_cast(v_metadata as json), "
    "'$.usage_object.prompt_tokens_details.cached_tokens') as bigint), "
    "try_cast(json_extract_string(try_cast(v_metadata as json), '$.usage_object.cache_read_input_tokens') "
    "as bigint), 0)"
    " + coalesce(try_cast(json_extract_string(try_cast(v_metadata as json), "
    "'$.usage_object.cache_creation_input_tokens') as bigint), 0))"
)

TRANSCRIPT_USAGE = (
    "json_exists(_raw, '$.message.usage') "
    "and coalesce(json_extract_string(_raw, '$.message.model'), '') <> '<synthetic>'"
)

FORMATS: dict[str, LandingSpec] = {
    "canonical": LandingSpec("canonical", "canonical_events", CANONICAL_FIELDS, _canonical_reader,
                             identity_column="user_email",
                             request_key=("lower(trim(v_provider))", "trim(v_request_id)", "v_occurred_at")),
    "people": LandingSpec("people", "people", PEOPLE_FIELDS, readers.csv, identity_column="email"),
    "claude-code-otel": LandingSpec("claude-code-otel", "claude_code_otel_events", OTEL_FIELDS, readers.otel,
                                    identity_column="user_email",
                                    request_key=("'anthropic'", "nullif(trim(v_request_id), '')", "v_occurred_at")),
    "claude-code-jsonl": LandingSpec("claude-code-jsonl", "claude_code_transcript_messages", TRANSCRIPT_FIELDS,
                                     readers.jsonl, needs_user=True, user_column="user_email",
                                     identity_column="user_email",
                                     options={"paths": TRANSCRIPT_PATHS, "where": TRANSCRIPT_USAGE},
                                     request_key=("'anthropic'", "coalesce(nullif(trim(v_request_id), ''), "
                                                  "nullif(trim(v_message_id), ''))", "v_occurred_at")),
    "litellm-spendlogs": LandingSpec("litellm-spendlogs", "litellm_spend_logs", LITELLM_FIELDS, _litellm_reader,
                                     identity_column="user",
                                     request_key=("lower(coalesce(nullif(trim(v_custom_llm_provider), ''), "
                                                  "split_part(v_model, '/', 1)))", "trim(v_request_id)",
                                                  "v_starttime"),
                                     checks=[(_exceeds("v_cached", "v_prompt_tokens").replace(
                                         "v_cached", LITELLM_CACHED_SQL), "cached tokens exceed prompt_tokens")]),
    "anthropic-usage-report": LandingSpec("anthropic-usage-report", "anthropic_usage_report",
                                          ANTHROPIC_REPORT_FIELDS, readers.anthropic_report,
                                          options={"paths": ANTHROPIC_REPORT_PATHS}),
    "openai-usage": LandingSpec("openai-usage", "openai_usage", OPENAI_USAGE_FIELDS, readers.openai_usage,
                                options={"paths": OPENAI_USAGE_PATHS},
                                checks=[(_exceeds("v_input_cached_tokens", "v_input_tokens"),
                                         "input_cached_tokens exceeds input_tokens")]),
    "api-key-owners": LandingSpec("api-key-owners", "api_key_owners", KEY_OWNER_FIELDS, readers.csv,
                                  identity_column="owner_email"),
}
