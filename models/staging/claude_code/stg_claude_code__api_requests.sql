with

source as (
    select * from {{ source('claude_code', 'claude_code_otel_events') }}
),

-- Claude Code on Bedrock names the inference profile it called (us.anthropic.claude-…,
-- global.anthropic.claude-…, or its ARN), on Vertex AI the model's Vertex name
-- (claude-…@20250929): that usage is billed by AWS or Google, not by Anthropic
routed as (
    select
        *,
        case
            when contains(model, 'anthropic.') or starts_with(model, 'arn:') then 'bedrock'
            when contains(model, '@') then 'vertex_ai'
            else 'anthropic'
        end as routed_provider
    from source
),

renamed as (
    select
        routed_provider as provider,
        coalesce(
            request_id,
            'otel:' || md5(concat_ws('|', session_id, occurred_at, model, input_tokens, output_tokens))
        ) as request_id,
        occurred_at,
        model,
        lower(trim(user_email)) as user_email,
        'claude-code' as application,
        session_id,
        input_tokens,
        output_tokens,
        coalesce(cache_read_tokens, 0) as cache_read_tokens,
        -- Claude Code reports one cache-creation count; its prompt caching writes 5-minute entries
        coalesce(cache_creation_tokens, 0) as cache_write_5m_tokens,
        0 as cache_write_1h_tokens,
        'standard' as service_tier,
        -- fast: Anthropic's fast mode, priced at a multiple of the standard rates (seed
        -- fast_mode_multipliers); any other value, or none, is standard speed
        case when lower(trim(speed)) = 'fast' then 'fast' else 'standard' end as speed,
        cost_usd as reported_cost_usd,
        team_id as source_team_id,
        cost_center as source_cost_center,
        _loaded_at as loaded_at,
        _batch_id as batch_id,
        _line as source_line,
        -- the landed column (a column of the source wins over an alias of this select)
        request_id is null as is_keyed_by_content
    from routed
),

-- landing keeps one record per request id (replays are ignored, corrections replace:
-- docs/formats.md); only events without one are deduplicated here, on a key made from their
-- content, so the window covers those alone and date filters reach the raw scan
keyed_by_request_id as (
    select *
    from renamed
    where not is_keyed_by_content
),

keyed_by_content as (
    select *
    from renamed
    where is_keyed_by_content
    qualify row_number() over (
        partition by request_id order by loaded_at, batch_id, source_line
    ) = 1
),

final as (
    select * exclude (is_keyed_by_content) from keyed_by_request_id
    union all
    select * exclude (is_keyed_by_content) from keyed_by_content
)

select * from final
