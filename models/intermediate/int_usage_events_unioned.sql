{#-
    Every per-request source in one grain, canonical semantics. The same request reported by
    two sources (a Claude Code request in both OpenTelemetry and a transcript, say) counts once:
    landing keeps one record per request from any per-request format (replays are ignored,
    corrections replace; docs/formats.md), so no window over the whole history is needed here
    and date filters reach the raw scans.
-#}
{%- set common_columns = [
    'provider', 'request_id', 'occurred_at', 'model', 'user_email', 'application',
    'input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_write_5m_tokens', 'cache_write_1h_tokens',
    'service_tier', 'reported_cost_usd', 'loaded_at'
] -%}
with

canonical as (
    select
        'canonical' as source_format,
        1 as source_priority,
        {{ common_columns | join(', ') }},
        web_search_requests,
        input_audio_tokens,
        output_audio_tokens,
        speed,
        inference_geo,
        cast(null as varchar) as source_team_id,
        cast(null as varchar) as source_cost_center
    from {{ ref('stg_canonical__usage_events') }}
),

claude_code_otel as (
    select
        'claude-code-otel' as source_format,
        2 as source_priority,
        {{ common_columns | join(', ') }},
        0 as web_search_requests,
        0 as input_audio_tokens,
        0 as output_audio_tokens,
        speed,
        cast(null as varchar) as inference_geo,
        source_team_id,
        source_cost_center
    from {{ ref('stg_claude_code__api_requests') }}
),

claude_code_transcripts as (
    select
        'claude-code-jsonl' as source_format,
        3 as source_priority,
        {{ common_columns | join(', ') }},
        web_search_requests,
        0 as input_audio_tokens,
        0 as output_audio_tokens,
        speed,
        inference_geo,
        cast(null as varchar) as source_team_id,
        cast(null as varchar) as source_cost_center
    from {{ ref('stg_claude_code__transcript_messages') }}
),

litellm as (
    select
        'litellm-spendlogs' as source_format,
        4 as source_priority,
        {{ common_columns | join(', ') }},
        web_search_requests,
        input_audio_tokens,
        output_audio_tokens,
        'standard' as speed,
        inference_geo,
        source_team_id,
        cast(null as varchar) as source_cost_center
    from {{ ref('stg_litellm__spend_logs') }}
),

bedrock as (
    select
        'bedrock-invocation-logs' as source_format,
        5 as source_priority,
        {{ common_columns | join(', ') }},
        0 as web_search_requests,
        0 as input_audio_tokens,
        0 as output_audio_tokens,
        'standard' as speed,
        cast(null as varchar) as inference_geo,
        cast(null as varchar) as source_team_id,
        cast(null as varchar) as source_cost_center
    from {{ ref('stg_bedrock__invocations') }}
),

unioned as (
    select * from canonical
    union all
    select * from claude_code_otel
    union all
    select * from claude_code_transcripts
    union all
    select * from litellm
    union all
    select * from bedrock
),

final as (
    select
        {{ event_uuid("provider || '|' || request_id") }} as event_id,
        source_format,
        provider,
        request_id,
        occurred_at,
        model,
        user_email,
        application,
        1 as requests,
        input_tokens,
        output_tokens,
        cache_read_tokens,
        cache_write_5m_tokens,
        cache_write_1h_tokens,
        web_search_requests,
        -- the audio part of input_tokens and of output_tokens (priced at audio rates)
        input_audio_tokens,
        output_audio_tokens,
        service_tier,
        speed,
        -- a call through Amazon Bedrock (any source) names its endpoint in the model id: the
        -- global cross-Region profile (global.) at the list price; a geographic profile (us.,
        -- eu., ...) or the model in one Region is regional, priced at a multiple for the models
        -- seed inference_geo_multipliers lists; a plain model name (a transcript) does not say
        case
            when provider not in ('bedrock', 'aws') or not contains(model, 'anthropic.') then inference_geo
            when starts_with(model, 'global.') or contains(model, '/global.') then 'global'
            else 'regional'
        end as inference_geo,
        reported_cost_usd,
        source_team_id,
        source_cost_center,
        loaded_at
    from unioned
)

select * from final
