"""Write the generated usage in the source formats companies actually have.

Every writer reads the temp view `base` (one row per generated request, duplicates included)
and lets DuckDB build the JSON/CSV; nothing loops over records in Python.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb

from token_ledger.config import project_dir

RAW_LINES = "(format csv, header false, quote '', escape '', delimiter '\x1f')"


def create_base(con: duckdb.DuckDBPyConnection, seed: int, start: dt.date) -> None:
    """`base`: the generated requests with ids, timestamps, identities and an estimated cost."""
    catalog = project_dir() / "seeds" / "price_catalog.csv"
    con.execute(
        f"""
        create or replace temp table base as
        with requests as (
            select
                e.*,
                p.email as directory_email,
                p.team as team_index,
                case e.email_variant
                    when 2 then 'contractor.' || lpad((e.person % 7)::varchar, 2, '0') || '@partner.example'
                    when 1 then upper(p.email)
                    else p.email
                end as user_email,
                timestamp '{start.isoformat()}' + to_days(e.day::integer) + to_milliseconds(e.millis) as occurred_at,
                case e.provider when 'anthropic' then 'req_' when 'openai' then 'chatcmpl-' else 'gen-' end
                    || substr(md5('{seed}:' || e.seq), 1, 24) as request_id,
                'sess-' || substr(md5('{seed}:' || e.person || ':' || e.day || ':' || e.session_n), 1, 16)
                    as session_id
            from events_with_sessions as e
            inner join people as p on p.person = e.person
        ),
        prices as (
            select provider, model_id, input_usd_per_mtok as i, output_usd_per_mtok as o,
                   cache_read_usd_per_mtok as r, cache_write_5m_usd_per_mtok as w5, cache_write_1h_usd_per_mtok as w1
            from read_csv('{catalog}', header = true, all_varchar = false)
            where service_tier = 'standard' and valid_to = date '9999-12-31'
        ),
        costed as (
            select
                requests.*,
                round((input_tokens * i + output_tokens * o + cache_read_tokens * r + cache_write_5m_tokens * w5
                       + cache_write_1h_tokens * w1) / 1e6, 6) as estimated_cost_usd
            from requests
            left join prices on prices.provider = requests.provider and starts_with(requests.model, prices.model_id)
            qualify row_number() over (partition by requests.seq, requests.person, requests.millis
                                       order by length(prices.model_id) desc nulls last) = 1
        )
        select * from costed
        """
    )


def _attr(key: str, value: str, kind: str = "stringValue") -> str:
    cast = f"cast({value} as varchar)" if kind == "intValue" else value
    return f"json_object('key', '{key}', 'value', json_object('{kind}', {cast}))"


def write_otel(con: duckdb.DuckDBPyConnection, out: Path, start: dt.date, days: int) -> list[Path]:
    """Claude Code OTel logs as an OpenTelemetry Collector file exporter writes them: one
    ExportLogsServiceRequest per line (per person and hour), api_request events among
    user_prompt events, 64-bit integers as JSON strings."""
    api_attributes = ", ".join([
        _attr("event.name", "'api_request'"),
        _attr("event.timestamp", "strftime(occurred_at, '%Y-%m-%dT%H:%M:%S.%gZ')"),
        _attr("session.id", "session_id"),
        _attr("user.email", "user_email"),
        _attr("user.account_uuid", "'acc-' || substr(md5(directory_email), 1, 12)"),
        _attr("organization.id", "'org-3f1c'"),
        _attr("request_id", "request_id"),
        _attr("model", "model"),
        _attr("input_tokens", "input_tokens", "intValue"),
        _attr("output_tokens", "output_tokens", "intValue"),
        _attr("cache_read_tokens", "cache_read_tokens", "intValue"),
        _attr("cache_creation_tokens", "cache_write_5m_tokens + cache_write_1h_tokens", "intValue"),
        "json_object('key', 'cost_usd', 'value', json_object('doubleValue', estimated_cost_usd))",
        _attr("duration_ms", "(input_tokens + output_tokens) % 9000 + 800", "intValue"),
    ])
    prompt_attributes = ", ".join([
        _attr("event.name", "'user_prompt'"),
        _attr("event.timestamp", "strftime(occurred_at - interval 2 second, '%Y-%m-%dT%H:%M:%S.%gZ')"),
        _attr("session.id", "session_id"),
        _attr("user.email", "user_email"),
        _attr("prompt_length", "(seq % 400) + 12", "intValue"),
    ])
    epoch = "cast(epoch_us(occurred_at) as hugeint) * 1000"
    # one day at a time, at most 512 records per export request (a collector's batch processor
    # splits larger ones; one person's busiest hour at 2 M events made a line of tens of MB, more
    # than 4 GB to build), the records of a line sorted as a list (an ordered aggregate kept a
    # sort buffer per line)
    lines_of_day = f"""
        with usage as (
            select * from base where application = 'claude-code' and day = $day
        ),
        records as (
            select person, day, hour(occurred_at) as hour, occurred_at, seq, 1 as kind,
                json_object('timeUnixNano', cast({epoch} as varchar), 'observedTimeUnixNano', cast({epoch} as varchar),
                            'body', json_object('stringValue', 'claude_code.api_request'),
                            'attributes', json_array({api_attributes})) as record
            from usage
            union all
            select person, day, hour(occurred_at), occurred_at - interval 2 second, seq, 0,
                json_object('timeUnixNano', cast({epoch} - 2000000000 as varchar),
                            'body', json_object('stringValue', 'claude_code.user_prompt'),
                            'attributes', json_array({prompt_attributes}))
            from usage where seq % 3 = 0
        ),
        batched as (
            select *, (row_number() over (partition by person, hour order by occurred_at, seq, kind) - 1) // 512
                as part
            from records
        )
        select day, min(seq) as first_seq, json_object('resourceLogs', json_array(json_object(
            'resource', json_object('attributes', json_array(
                json_object('key', 'service.name', 'value', json_object('stringValue', 'claude-code')),
                json_object('key', 'service.version', 'value', json_object('stringValue', '2.0.14')))),
            'scopeLogs', json_array(json_object(
                'scope', json_object('name', 'com.anthropic.claude_code.events', 'version', '2.0.14'),
                'logRecords', to_json(list_transform(
                    list_sort(list({{'t': occurred_at, 's': seq, 'k': kind, 'r': record}})), lambda x: x.r)
            )))))) as line
        from batched
        group by person, day, hour, part
    """
    files = []
    # DuckDB keeping the insertion order of these long lines runs out of memory (above 4 GB for a
    # day of 2 M events, whether copied or stored); the ORDER BY alone orders what is fetched.
    # One thread: building a day's lines took about 1.1 GB per thread at 2 M events, beside the
    # 1 GB the generated tables hold, and two threads ran out of the 4 GB now and then (peak
    # 3.3 GB; one thread 2.3 GB, and 50% longer)
    threads = con.execute("select current_setting('threads')").fetchone()[0]
    con.execute("set preserve_insertion_order = false")
    con.execute("set threads = 1")
    try:
        for day in range(days):
            target = out / f"claude-code-otel-{(start + dt.timedelta(days=day)).isoformat()}.jsonl"
            result = con.execute(f"select line from ({lines_of_day}) order by first_seq", {"day": day})
            with target.open("w", encoding="utf-8", newline="\n") as handle:
                while batch := result.fetchmany(4096):
                    handle.writelines(f"{line}\n" for (line,) in batch)
            files.append(target)
    finally:
        con.execute("set preserve_insertion_order = true")
        con.execute(f"set threads = {int(threads)}")
    return files


def write_transcripts(con: duckdb.DuckDBPyConnection, out: Path) -> list[Path]:
    """Claude Code session transcripts, one folder per person (land each with --user); a fifth of
    messages streamed (a line with a third of the output first, then the whole); a resumed session
    repeats its last assistant message; some `<synthetic>` error lines carry no usage."""
    con.execute(
        """
        create or replace temp table transcript_lines as
        with usage as (
            select *, row_number() over (partition by person, day, session_n order by seq) as turn,
                   count(*) over (partition by person, day, session_n) as turns
            from base where application = 'claude-code'
        ),
        assistant as (
            select person, day, session_n, occurred_at, seq, output_tokens, 1 as kind, session_id, json_object(
                'parentUuid', 'u-' || seq || '-q', 'isSidechain', seq % 11 = 0, 'userType', 'external',
                'cwd', '/home/dev/project-' || (seq % 5), 'sessionId', session_id, 'version', '2.0.14',
                'message', json_object('id', 'msg_' || substr(md5('m' || request_id), 1, 20), 'type', 'message',
                    'role', 'assistant', 'model', model,
                    'usage', json_object('input_tokens', input_tokens,
                        'cache_creation_input_tokens', cache_write_5m_tokens + cache_write_1h_tokens,
                        'cache_read_input_tokens', cache_read_tokens,
                        'cache_creation', json_object('ephemeral_5m_input_tokens', cache_write_5m_tokens,
                                                      'ephemeral_1h_input_tokens', cache_write_1h_tokens),
                        'output_tokens', output_tokens, 'service_tier', 'standard')),
                'requestId', request_id, 'type', 'assistant', 'uuid', 'u-' || seq || '-a',
                'timestamp', strftime(occurred_at, '%Y-%m-%dT%H:%M:%S.%gZ'), 'costUSD', estimated_cost_usd
            ) as line, turn, turns
            from usage
        ),
        lines as (
            select person, occurred_at - interval 3 second as at_time, seq, 0 as kind, json_object(
                'parentUuid', null, 'isSidechain', false, 'userType', 'external', 'sessionId', session_id,
                'version', '2.0.14', 'type', 'user', 'message', json_object('role', 'user', 'content', 'continue'),
                'uuid', 'u-' || seq || '-q', 'timestamp', strftime(occurred_at - interval 3 second,
                '%Y-%m-%dT%H:%M:%S.%gZ')) as line
            from assistant
            union all
            select person, occurred_at, seq, 1, line from assistant
            union all
            -- a fifth of messages streamed: written first with a third of the output, then whole
            select person, occurred_at - interval 1 second, seq, 1, json_merge_patch(line, json_object(
                'uuid', 'u-' || seq || '-p', 'timestamp', strftime(occurred_at - interval 1 second,
                '%Y-%m-%dT%H:%M:%S.%gZ'), 'message', json_object('usage', json_object(
                    'output_tokens', output_tokens // 3))))
            from assistant where seq % 5 = 1
            union all
            -- the next session resumes: the last message of a session appears again
            select person, occurred_at + interval 1 hour, seq, 2, line from assistant where turn = turns
            union all
            select person, occurred_at + interval 1 second, seq, 3, json_object(
                'isSidechain', false, 'sessionId', session_id, 'version', '2.0.14', 'type', 'assistant',
                'message', json_object('id', 'msg_synthetic_' || seq, 'model', '<synthetic>', 'role', 'assistant',
                    'usage', json_object('input_tokens', 0, 'output_tokens', 0)),
                'requestId', 'req_synthetic_' || seq, 'uuid', 'u-' || seq || '-s',
                'timestamp', strftime(occurred_at + interval 1 second, '%Y-%m-%dT%H:%M:%S.%gZ'))
            from assistant where seq % 97 = 0
        )
        select 'p' || lpad(person::varchar, 5, '0') as folder, at_time, seq, kind, line from lines
        """
    )
    staging = out / ".transcripts"
    con.execute(f"copy (select folder, line from transcript_lines order by folder, at_time, seq, kind) to '{staging}' "
                "(format csv, header false, quote '', escape '', delimiter '\x1f', partition_by (folder), "
                "overwrite_or_ignore true)")
    files = []
    for part in sorted(staging.iterdir()):
        folder = out / "claude-code-jsonl" / part.name.split("=", 1)[1]
        folder.mkdir(parents=True, exist_ok=True)
        for i, data in enumerate(sorted(part.iterdir())):
            target = folder / f"session-log-{i}.jsonl"
            data.rename(target)
            files.append(target)
    shutil.rmtree(staging)
    con.execute(
        f"""
        copy (select distinct 'p' || lpad(person::varchar, 5, '0') as folder, directory_email as user_email
              from base where application = 'claude-code' order by folder)
        to '{out / "transcript-users.csv"}' (format csv, header true)
        """
    )
    return files


def write_litellm(con: duckdb.DuckDBPyConnection, out: Path, start: dt.date, days: int) -> list[Path]:
    """LiteLLM_SpendLogs exports (CSV, one per day): prompt_tokens in OpenAI semantics (cached
    tokens included), cache details in metadata.usage_object, ~1% failed requests with no tokens."""
    con.execute(
        """
        create or replace temp table litellm_rows as
        select day, seq, 0 as kind,
            'litellm-' || substr(md5('l' || request_id), 1, 24) as request_id,
            'acompletion' as call_type,
            sha256('sk-litellm-' || directory_email) as api_key,
            estimated_cost_usd as spend,
            input_tokens + cache_read_tokens + cache_write_5m_tokens + cache_write_1h_tokens + output_tokens
                as total_tokens,
            input_tokens + cache_read_tokens + cache_write_5m_tokens + cache_write_1h_tokens as prompt_tokens,
            output_tokens as completion_tokens,
            strftime(occurred_at, '%Y-%m-%d %H:%M:%S.%g') as "startTime",
            strftime(occurred_at + to_milliseconds(800 + (output_tokens % 5000)), '%Y-%m-%d %H:%M:%S.%g') as "endTime",
            case provider when 'anthropic' then 'anthropic/' || model else model end as model,
            model as model_group,
            case provider when 'google' then 'gemini' else provider end as custom_llm_provider,
            user_email as "user",
            '' as end_user,
            'team-' || team_index as team_id,
            'org-3f1c' as organization_id,
            case provider
                when 'anthropic' then json_object('usage_object', json_object(
                    'prompt_tokens', input_tokens + cache_read_tokens + cache_write_5m_tokens + cache_write_1h_tokens,
                    'completion_tokens', output_tokens, 'cache_read_input_tokens', cache_read_tokens,
                    'cache_creation_input_tokens', cache_write_5m_tokens + cache_write_1h_tokens))
                else json_object('usage_object', json_object(
                    'prompt_tokens', input_tokens + cache_read_tokens, 'completion_tokens', output_tokens,
                    'prompt_tokens_details', json_object('cached_tokens', cache_read_tokens)))
            end as metadata,
            '["' || application || '"]' as request_tags,
            'success' as status
        from base
        where application <> 'claude-code'
        """
    )
    con.execute(
        """
        insert into litellm_rows
        select day, seq, 1, request_id || '-retry', call_type, api_key, 0, 0, 0, 0, "startTime", "endTime", model,
            model_group, custom_llm_provider, "user", end_user, team_id, organization_id, '{}', request_tags, 'failure'
        from litellm_rows where seq % 100 = 7 and kind = 0
        """
    )
    files = []
    for day in range(days):
        target = out / f"litellm-spendlogs-{(start + dt.timedelta(days=day)).isoformat()}.csv"
        con.execute(f"copy (select * exclude (day, seq, kind) from litellm_rows where day = {day} "
                    f"order by seq, kind) to '{target}' (format csv, header true)")
        files.append(target)
    return files


def write_anthropic_report(con: duckdb.DuckDBPyConnection, out: Path, start: dt.date, days: int) -> list[Path]:
    """Anthropic usage report pages (one per day, daily buckets) grouped by model, API key,
    workspace, service tier and context window; keys belong to teams (see api-key-owners.csv)."""
    con.execute(
        """
        create or replace temp table anthropic_results as
        with usage as (
            select distinct on (request_id) * from base where provider = 'anthropic'
        )
        select day,
            json_object(
                'uncached_input_tokens', sum(input_tokens),
                'cache_creation', json_object('ephemeral_1h_input_tokens', sum(cache_write_1h_tokens),
                                              'ephemeral_5m_input_tokens', sum(cache_write_5m_tokens)),
                'cache_read_input_tokens', sum(cache_read_tokens),
                'output_tokens', sum(output_tokens),
                'server_tool_use', json_object('web_search_requests', 0),
                'api_key_id', 'apikey_team_' || team_index,
                'workspace_id', 'wrkspc_' || (team_index % 3),
                'model', model,
                'service_tier', service_tier,
                'context_window',
                    case when input_tokens + cache_read_tokens + cache_write_5m_tokens + cache_write_1h_tokens > 200000
                         then '200k-1M' else '0-200k' end
            ) as result
        from usage
        group by day, model, team_index, service_tier,
            input_tokens + cache_read_tokens + cache_write_5m_tokens + cache_write_1h_tokens > 200000
        """
    )
    files = []
    for day in range(days):
        date = start + dt.timedelta(days=day)
        target = out / f"anthropic-usage-report-{date.isoformat()}.json"
        con.execute(
            f"""
            copy (
                select json_object(
                    'data', json_array(json_object(
                        'starting_at', '{date.isoformat()}T00:00:00Z',
                        'ending_at', '{(date + dt.timedelta(days=1)).isoformat()}T00:00:00Z',
                        'results', coalesce(to_json(list(result order by cast(result as varchar))), '[]'))),
                    'has_more', false, 'next_page', null)
                from anthropic_results where day = {day}
            ) to '{target}' {RAW_LINES}
            """
        )
        files.append(target)
    return files


def write_openai_usage(con: duckdb.DuckDBPyConnection, out: Path, start: dt.date, days: int) -> list[Path]:
    """OpenAI completions usage pages (one per day) grouped by model, project, user, API key and
    batch, with the API's newer breakdown: input_tokens INCLUDES input_cached_tokens (and cache
    writes, none here: the generated OpenAI traffic writes none), input_uncached_tokens and
    input_text_tokens the rest."""
    con.execute(
        """
        create or replace temp table openai_results as
        with usage as (
            select distinct on (request_id) * from base where provider = 'openai'
        )
        select day,
            json_object(
                'object', 'organization.usage.completions.result',
                'input_tokens', sum(input_tokens + cache_read_tokens),
                'output_tokens', sum(output_tokens),
                'input_cached_tokens', sum(cache_read_tokens),
                'input_cache_write_tokens', 0,
                'input_uncached_tokens', sum(input_tokens),
                'input_text_tokens', sum(input_tokens),
                'input_audio_tokens', 0, 'output_audio_tokens', 0,
                'num_model_requests', count(*),
                'project_id', 'proj_team_' || team_index,
                'user_id', 'user-' || substr(md5(lower(user_email)), 1, 12),
                'api_key_id', 'key_team_' || team_index,
                'model', model,
                'batch', service_tier = 'batch'
            ) as result
        from usage
        group by day, model, team_index, lower(user_email), service_tier = 'batch'
        """
    )
    files = []
    for day in range(days):
        date = start + dt.timedelta(days=day)
        begin = int(dt.datetime.combine(date, dt.time(), tzinfo=dt.UTC).timestamp())
        target = out / f"openai-usage-{date.isoformat()}.json"
        con.execute(
            f"""
            copy (
                select json_object('object', 'page', 'data', json_array(json_object(
                        'object', 'bucket', 'start_time', {begin}, 'end_time', {begin + 86400},
                        'results', coalesce(to_json(list(result order by cast(result as varchar))), '[]'))),
                    'has_more', false, 'next_page', null)
                from openai_results where day = {day}
            ) to '{target}' {RAW_LINES}
            """
        )
        files.append(target)
    return files


def write_key_owners(con: duckdb.DuckDBPyConnection, out: Path) -> Path:
    """Who owns the generated API keys, workspaces, projects and OpenAI user ids."""
    target = out / "api-key-owners.csv"
    con.execute(
        f"""
        copy (
            select distinct 'anthropic_api_key' as key_type, 'apikey_team_' || team_index as key_id,
                '' as owner_email, 'T' || lpad(team_index::varchar, 4, '0') as team_id, '' as cost_center,
                '2025-01-01' as valid_from
            from base where provider = 'anthropic'
            union all
            select distinct 'openai_project', 'proj_team_' || team_index, '', 'T' || lpad(team_index::varchar, 4, '0'),
                '', '2025-01-01'
            from base where provider = 'openai'
            union all
            select distinct 'openai_user', 'user-' || substr(md5(lower(user_email)), 1, 12), lower(user_email), '', '',
                '2025-01-01'
            from base where provider = 'openai'
            order by 1, 2
        ) to '{target}' (format csv, header true)
        """
    )
    return target


# the cost report's token types: the request's token count and the catalog's rate
BILL_TOKEN_TYPES = {
    "uncached_input_tokens": ("input_tokens", "input"),
    "output_tokens": ("output_tokens", "output"),
    "cache_read_input_tokens": ("cache_read_tokens", "cache_read"),
    "cache_creation.ephemeral_5m_input_tokens": ("cache_write_5m_tokens", "cache_write_5m"),
    "cache_creation.ephemeral_1h_input_tokens": ("cache_write_1h_tokens", "cache_write_1h"),
}


def write_bills(con: duckdb.DuckDBPyConnection, out: Path, start: dt.date, mispriced: bool) -> list[Path]:
    """What Anthropic and OpenAI would bill for the generated requests, as their cost reports
    write it (one page per day, JSON Lines): each request once, priced like the provider (its
    tier's price, else the documented tier multiplier; the whole request at long-context rates
    above the threshold), summed per day × model × token type. With `mispriced`, the bill
    overcharges one model-day by 10% (bills/MISPRICED.txt: the day, provider and catalog model)."""
    seeds = project_dir() / "seeds"
    costs = ", ".join(
        f"{tokens} * m * (case when lc then long_context_{rate}_usd_per_mtok else {rate}_usd_per_mtok end) / 1e6 "
        f'as "{name}"' for name, (tokens, rate) in BILL_TOKEN_TYPES.items())
    con.execute(
        f"""
        create or replace temp table bill_items as
        with requests as (
            select distinct on (seq) *,
                timestamp '{start.isoformat()}' + to_days(day::integer) + to_milliseconds(millis) as occurred_at
            from events_with_sessions
            where provider in ('anthropic', 'openai')
        ),
        catalog as (
            select * from read_csv('{seeds / "price_catalog.csv"}', header = true)
        ),
        rules as (
            select * from read_csv('{seeds / "pricing_rules.csv"}', header = true)
        ),
        priced as (
            select requests.*, catalog.*,
                case when not catalog.is_tier_price_listed then coalesce(rules.multiplier, 1) else 1 end as m,
                coalesce(input_tokens + cache_read_tokens + cache_write_5m_tokens + cache_write_1h_tokens
                         > catalog.long_context_threshold_tokens, false) as lc
            from requests
            inner join catalog
                on catalog.provider = requests.provider and starts_with(requests.model, catalog.model_id)
                and catalog.service_tier = requests.service_tier
                and requests.occurred_at >= catalog.valid_from and requests.occurred_at < catalog.valid_to
            left join rules
                on rules.provider = requests.provider and rules.service_tier = requests.service_tier
                and requests.occurred_at >= rules.valid_from and requests.occurred_at < rules.valid_to
            qualify row_number() over (partition by requests.seq order by length(catalog.model_id) desc) = 1
        ),
        items as (
            unpivot (
                select day, provider, model, model_id, service_tier, lc, {costs}
                from priced
            )
            on {", ".join(f'"{name}"' for name in BILL_TOKEN_TYPES)}
            into name token_type value usd
        )
        select day, provider, model, model_id, service_tier, lc, token_type, sum(usd) as usd
        from items
        group by all
        having sum(usd) > 0
        """
    )
    mistake = None
    if mispriced:
        mistake = con.execute(
            """
            select day, model_id from bill_items
            where provider = 'anthropic' and day = (select max(day) // 2 from bill_items)
            group by all order by sum(usd) desc limit 1
            """
        ).fetchone()
        con.execute("update bill_items set usd = usd * 1.1 where provider = 'anthropic' and day = ? and model_id = ?",
                    list(mistake))
    folder = out / "bills"
    folder.mkdir(parents=True, exist_ok=True)
    day_start = f"timestamp '{start.isoformat()}' + to_days(day::integer)"
    anthropic, openai = folder / "anthropic-cost-report.jsonl", folder / "openai-costs.jsonl"
    con.execute(
        f"""
        copy (
            select json_object('data', [json_object(
                'starting_at', strftime({day_start}, '%Y-%m-%dT%H:%M:%SZ'),
                'ending_at', strftime({day_start} + interval 1 day, '%Y-%m-%dT%H:%M:%SZ'),
                'results', list(json_object(
                    'currency', 'USD', 'amount', printf('%.6f', usd * 100), 'workspace_id', null,
                    'description', model || ' usage - ' || token_type, 'cost_type', 'tokens',
                    'context_window', case when lc then '200k-1M' else '0-200k' end, 'model', model,
                    'service_tier', service_tier, 'token_type', token_type) order by model, token_type, lc,
                    service_tier))], 'has_more', false, 'next_page', null)
            from bill_items where provider = 'anthropic' group by day order by day
        ) to '{anthropic}' {RAW_LINES}
        """
    )
    kinds = ("case token_type when 'uncached_input_tokens' then 'input' when 'output_tokens' then 'output' "
             "else 'cached input' end")
    con.execute(
        f"""
        copy (
            select json_object('object', 'page', 'data', [json_object(
                'object', 'bucket', 'start_time', epoch({day_start})::bigint,
                'end_time', epoch({day_start} + interval 1 day)::bigint,
                'results', list(json_object(
                    'object', 'organization.costs.result', 'amount', json_object('value', usd, 'currency', 'usd'),
                    'line_item', line_item, 'project_id', 'proj_generated') order by line_item))],
                'has_more', false, 'next_page', null)
            from (
                select day, model || ', ' || case when service_tier = 'standard' then '' else service_tier || ' ' end
                    || {kinds} as line_item, round(sum(usd), 10) as usd
                from bill_items where provider = 'openai' group by all
            )
            group by day order by day
        ) to '{openai}' {RAW_LINES}
        """
    )
    files = [anthropic, openai]
    if mistake:
        note = folder / "MISPRICED.txt"
        note.write_text(f"{(start + dt.timedelta(days=int(mistake[0]))).isoformat()} anthropic {mistake[1]} x1.1\n",
                        encoding="utf-8")
    return files
