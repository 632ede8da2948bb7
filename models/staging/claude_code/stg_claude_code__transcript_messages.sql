with

source as (
    select * from {{ source('claude_code', 'claude_code_transcript_messages') }}
),

renamed as (
    select
        -- Claude Code on Bedrock or Vertex AI writes the model's plain name, and the message id
        -- the cloud gave (msg_bdrk_…, msg_vrtx_…): that usage is billed by AWS or Google
        case
            when starts_with(message_id, 'msg_bdrk_') then 'bedrock'
            when starts_with(message_id, 'msg_vrtx_') then 'vertex_ai'
            else 'anthropic'
        end as provider,
        coalesce(request_id, message_id) as request_id,
        message_id,
        occurred_at,
        model,
        lower(trim(user_email)) as user_email,
        'claude-code' as application,
        session_id,
        input_tokens,
        output_tokens,
        coalesce(cache_read_input_tokens, 0) as cache_read_tokens,
        -- the 5-minute / 1-hour split when the transcript has it, else all writes are 5-minute
        case
            when cache_write_5m_tokens is null and cache_write_1h_tokens is null
                then coalesce(cache_creation_input_tokens, 0)
            else coalesce(cache_write_5m_tokens, 0)
        end as cache_write_5m_tokens,
        coalesce(cache_write_1h_tokens, 0) as cache_write_1h_tokens,
        -- server-side web searches (usage.server_tool_use), priced per search (seed tool_prices)
        coalesce(web_search_requests, 0) as web_search_requests,
        'standard' as service_tier,
        -- fast: Anthropic's fast mode, priced at a multiple of the standard rates (seed
        -- fast_mode_multipliers); any other value, or none, is standard speed
        case when lower(trim(speed)) = 'fast' then 'fast' else 'standard' end as speed,
        -- where inference ran ('us': US-only, priced at a multiple: seed inference_geo_multipliers)
        lower(trim(inference_geo)) as inference_geo,
        cost_usd as reported_cost_usd,
        _loaded_at as loaded_at,
        _batch_id as batch_id,
        _line as source_line
    from source
),

final as (
    select * from renamed
)

select * from final
