with

source as (
    select * from {{ source('openai', 'openai_usage') }}
),

renamed as (
    select
        'openai-usage' as source_format,
        'openai' as provider,
        start_time as bucket_start,
        end_time as bucket_end,
        model,
        api_key_id,
        cast(null as varchar) as workspace_id,
        project_id,
        user_id,
        -- the tier where the report is grouped by it (OpenAI named priority "fast" from 2026-07-30);
        -- default, auto and scale are standard
        case
            when batch then 'batch'
            when lower(trim(service_tier)) = 'flex' then 'flex'
            when lower(trim(service_tier)) in ('priority', 'fast') then 'priority'
            else 'standard'
        end as service_tier,
        -- where the report is grouped by it: agents_api, or unlabeled
        lower(trim(api_source)) as api_source,
        cast(null as varchar) as context_window,
        num_model_requests as requests,
        -- OpenAI's input_tokens INCLUDES the cached tokens and the cache writes
        input_tokens - coalesce(input_cached_tokens, 0) - coalesce(input_cache_write_tokens, 0) as input_tokens,
        output_tokens,
        coalesce(input_cached_tokens, 0) as cache_read_tokens,
        coalesce(input_cache_write_tokens, 0) as cache_write_5m_tokens,
        cast(0 as bigint) as cache_write_1h_tokens,
        -- a result with the newer breakdown (input_uncached_tokens) counts its uncached audio
        -- apart; an older one's audio counts are not priced apart (docs/formats.md)
        case when input_uncached_tokens is not null then coalesce(input_audio_tokens, 0) else 0 end
            as input_audio_tokens,
        case when input_uncached_tokens is not null then coalesce(output_audio_tokens, 0) else 0 end
            as output_audio_tokens,
        _loaded_at as loaded_at,
        _line as source_line
    from source
),

deduplicated as (
    select *
    from renamed
    qualify row_number() over (
        partition by bucket_start, model, api_key_id, project_id, user_id, service_tier, api_source
        order by loaded_at desc, source_line desc
    ) = 1
)

select * from deduplicated
