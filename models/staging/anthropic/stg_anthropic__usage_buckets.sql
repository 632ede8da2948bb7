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
        -- the API the row came from: the usage report, or the Usage and Cost Analytics API
        case when analytics then 'analytics' else 'usage_report' end as report_api,
        -- only the analytics API counts requests
        coalesce(requests, 0) as requests,
        uncached_input_tokens as input_tokens,
        output_tokens,
        coalesce(cache_read_input_tokens, 0) as cache_read_tokens,
        coalesce(cache_creation_5m_tokens, 0) as cache_write_5m_tokens,
        coalesce(cache_creation_1h_tokens, 0) as cache_write_1h_tokens,
        -- server-side web searches (server_tool_use), priced per search (seed tool_prices)
        coalesce(web_search_requests, 0) as web_search_requests,
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
),

landed_last as (
    -- a day reported by both APIs (their rows name models differently: dated ids, aliases) is
    -- the report of the API landed last for that day, so it counts once
    select
        *,
        max(loaded_at) over (partition by cast(bucket_start as date), report_api) as api_loaded_at
    from deduplicated
),

final as (
    select * exclude (api_loaded_at)
    from landed_last
    qualify dense_rank() over (partition by cast(bucket_start as date) order by api_loaded_at desc, report_api asc) = 1
)

select * from final
