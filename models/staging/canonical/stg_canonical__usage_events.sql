with

source as (
    select * from {{ source('canonical', 'canonical_events') }}
),

renamed as (
    select
        lower(trim(provider)) as provider,
        request_id,
        occurred_at,
        model,
        lower(trim(user_email)) as user_email,
        coalesce(application, 'unknown') as application,
        session_id,
        input_tokens,
        output_tokens,
        coalesce(cache_read_tokens, 0) as cache_read_tokens,
        coalesce(cache_write_5m_tokens, 0) as cache_write_5m_tokens,
        coalesce(cache_write_1h_tokens, 0) as cache_write_1h_tokens,
        -- OpenAI's priority tier is called fast since 2026-07-30 (https://openai.com/api-fast-mode/);
        -- another provider's fast tier has no catalog price (unpriced, rpt_unpriced_usage); the
        -- standard tier as APIs name it (OpenAI's default and auto, Anthropic's standard_only)
        case
            when lower(trim(provider)) = 'openai' and service_tier = 'fast' then 'priority'
            when service_tier in ('default', 'auto', 'standard_only') then 'standard'
            else coalesce(service_tier, 'standard')
        end as service_tier,
        -- fast mode, where inference ran and web searches, where the record says (Anthropic's usage)
        coalesce(lower(nullif(trim(speed), '')), 'standard') as speed,
        lower(nullif(trim(inference_geo), '')) as inference_geo,
        coalesce(web_search_requests, 0) as web_search_requests,
        -- the audio part of input_tokens and of output_tokens
        coalesce(input_audio_tokens, 0) as input_audio_tokens,
        coalesce(output_audio_tokens, 0) as output_audio_tokens,
        reported_cost_usd,
        tags,
        _line as source_line,
        _batch_id as batch_id,
        _loaded_at as loaded_at
    from source
),

final as (
    select * from renamed
)

select * from final
