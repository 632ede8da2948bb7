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
        case when batch then 'batch' else 'standard' end as service_tier,
        cast(null as varchar) as context_window,
        num_model_requests as requests,
        -- OpenAI's input_tokens INCLUDES the cached tokens
        input_tokens - coalesce(input_cached_tokens, 0) as input_tokens,
        output_tokens,
        coalesce(input_cached_tokens, 0) as cache_read_tokens,
        cast(0 as bigint) as cache_write_5m_tokens,
        cast(0 as bigint) as cache_write_1h_tokens,
        _loaded_at as loaded_at,
        _line as source_line
    from source
),

deduplicated as (
    select *
    from renamed
    qualify row_number() over (
        partition by bucket_start, model, api_key_id, project_id, user_id, service_tier
        order by loaded_at desc, source_line desc
    ) = 1
)

select * from deduplicated
