with

source as (
    select * from {{ source('anthropic', 'anthropic_usage_report') }}
),

renamed as (
    select
        'anthropic-usage-report' as source_format,
        'anthropic' as provider,
        starting_at as bucket_start,
        ending_at as bucket_end,
        model,
        api_key_id,
        workspace_id,
        cast(null as varchar) as project_id,
        cast(null as varchar) as user_id,
        case lower(coalesce(service_tier, 'standard'))
            when 'batch' then 'batch'
            when 'priority' then 'priority'
            when 'flex' then 'flex'
            else 'standard'
        end as service_tier,
        context_window,
        -- only in a report grouped by them: NULL where the report does not say
        case when lower(trim(speed)) = 'fast' then 'fast' when speed is not null then 'standard' end as speed,
        lower(trim(inference_geo)) as inference_geo,
        cast(0 as bigint) as requests,
        uncached_input_tokens as input_tokens,
        output_tokens,
        coalesce(cache_read_input_tokens, 0) as cache_read_tokens,
        coalesce(cache_creation_5m_tokens, 0) as cache_write_5m_tokens,
        coalesce(cache_creation_1h_tokens, 0) as cache_write_1h_tokens,
        _loaded_at as loaded_at,
        _line as source_line
    from source
),

deduplicated as (
    -- a report downloaded again restates its buckets: the latest landed copy wins
    select *
    from renamed
    qualify row_number() over (
        partition by bucket_start, model, api_key_id, workspace_id, service_tier, context_window, speed, inference_geo
        order by loaded_at desc, source_line desc
    ) = 1
)

select * from deduplicated
