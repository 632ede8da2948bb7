{#-
    Per-request events plus what the Claude Code Analytics report lists and they do not
    explain: per person × day × catalog model, for each token type, max(report − events, 0),
    where events are the person's Claude Code requests that day billed by Anthropic
    (OpenTelemetry, transcripts, canonical with application claude-code; not those on Bedrock or
    Vertex AI, which the report does not count). Provider reports are reconciled after this, against
    these completed events, so a token is never counted twice. api_actor rows have no person:
    their usage stays unattributed (nothing per-request can explain it). Only the person-days
    the report lists are totalled, and the events are imported twice: DuckDB materializes a
    CTE read twice whole, and the incremental models' day filter would stop reaching the raw
    scans (a 10 M-event history: 6.2 s for one day's rows instead of 0.3 s).
-#}
{%- set token_columns = ['input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_write_5m_tokens'] -%}
with

events as (
    select * from {{ ref('int_usage_events_unioned') }}
),

events_to_total as (
    select * from {{ ref('int_usage_events_unioned') }}
),

reported as (
    select * from {{ ref('stg_claude_code__analytics_model_usage') }}
),

matched_models as (
    select * from {{ ref('int_models_matched') }}
),

provider_aliases as (
    select * from {{ ref('provider_aliases') }}
),

reported_person_days as (
    select distinct
        user_email,
        usage_date
    from reported
),

reported_keyed as (
    select
        reported.*,
        coalesce(matched_models.model_id, lower(reported.model)) as match_key
    from reported
    left join matched_models
        on matched_models.provider = 'anthropic' and reported.model = matched_models.model
),

claude_code_events as (
    select
        events_to_total.user_email,
        cast(events_to_total.occurred_at as date) as usage_date,
        coalesce(matched_models.model_id, lower(events_to_total.model)) as match_key,
    {% for column in token_columns -%}
        sum(events_to_total.{{ column }}) as event_{{ column }}{{ "," if not loop.last }}
    {% endfor %}
    from events_to_total
    inner join reported_person_days
        on
            events_to_total.user_email = reported_person_days.user_email
            and cast(events_to_total.occurred_at as date) = reported_person_days.usage_date
    -- the report is Anthropic's own: Claude Code on Bedrock or Vertex AI is not in it
    inner join provider_aliases
        on events_to_total.provider = provider_aliases.reported_provider and provider_aliases.billed_by = 'anthropic'
    left join matched_models
        on events_to_total.provider = matched_models.provider and events_to_total.model = matched_models.model
    where events_to_total.application = 'claude-code'
    group by all
),

remainders as (
    select
        reported_keyed.usage_date,
        reported_keyed.user_email,
        reported_keyed.api_key_name,
        reported_keyed.model,
        reported_keyed.loaded_at,
    {% for column in token_columns -%}
        greatest(
            reported_keyed.{{ column }} - coalesce(claude_code_events.event_{{ column }}, 0), 0
        ) as {{ column }}{{ "," if not loop.last }}
    {% endfor %}
    from reported_keyed
    left join claude_code_events
        on
            reported_keyed.user_email = claude_code_events.user_email
            and reported_keyed.usage_date = claude_code_events.usage_date
            and reported_keyed.match_key = claude_code_events.match_key
),

remainder_events as (
    select
        {{ event_uuid(
            "'analytics|' || usage_date || '|' || coalesce(user_email, 'key:' || api_key_name) || '|' || model"
        ) }} as event_id,
        'claude-code-analytics' as source_format,
        'anthropic' as provider,
        'analytics:' || usage_date || ':' || model as request_id,
        cast(usage_date as timestamp) as occurred_at,
        model,
        user_email,
        'claude-code' as application,
        0 as requests,
        -- counts as the events' (differences of sums are HUGEINT: every event would be widened)
        cast(input_tokens as bigint) as input_tokens,
        cast(output_tokens as bigint) as output_tokens,
        cast(cache_read_tokens as bigint) as cache_read_tokens,
        cast(cache_write_5m_tokens as bigint) as cache_write_5m_tokens,
        cast(0 as bigint) as cache_write_1h_tokens,
        cast(0 as bigint) as web_search_requests,
        cast(0 as bigint) as input_audio_tokens,
        cast(0 as bigint) as output_audio_tokens,
        'standard' as service_tier,
        'standard' as speed,
        cast(null as varchar) as inference_geo,
        cast(null as decimal(18, 9)) as reported_cost_usd,
        cast(null as varchar) as source_team_id,
        cast(null as varchar) as source_cost_center,
        loaded_at
    from remainders
    where input_tokens + output_tokens + cache_read_tokens + cache_write_5m_tokens > 0
),

final as (
    select * from events
    union all by name
    select * from remainder_events
)

select * from final
