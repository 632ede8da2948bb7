{#- What Anthropic bills: one row per day × cost item of the cost report, in USD. -#}
with

source as (
    select * from {{ source('anthropic', 'anthropic_cost_report') }}
),

renamed as (
    select
        'anthropic-cost-report' as source_format,
        'anthropic' as provider,
        cast(starting_at as date) as bill_date,
        starting_at as bucket_start,
        model,
        lower(coalesce(nullif(trim(service_tier), ''), 'standard')) as service_tier,
        coalesce(cost_type, 'tokens') as cost_type,
        token_type,
        context_window,
        workspace_id,
        description,
        -- only in rows of the analytics API grouped by them: NULL where the bill does not say
        lower(trim(speed)) as speed,
        lower(trim(inference_geo)) as inference_geo,
        -- the API the item came from: the cost report, or the Usage and Cost Analytics API
        case when analytics then 'analytics' else 'cost_report' end as bill_api,
        upper(coalesce(currency, 'USD')) as currency,
        -- the report's amount is in cents
        cast(amount / 100 as decimal(38, 9)) as billed_cost_usd,
        _loaded_at as loaded_at,
        _line as source_line
    from source
),

deduplicated as (
    -- a report downloaded again restates its buckets: the latest landed copy wins
    select *
    from renamed
    qualify row_number() over (
        partition by
            bucket_start, model, service_tier, cost_type, token_type, context_window, workspace_id, description, speed,
            inference_geo
        order by loaded_at desc, source_line desc
    ) = 1
),

landed_last as (
    -- a day billed by both APIs (their items differ in description) is the bill of the API
    -- landed last for that day, so it counts once
    select
        *,
        max(loaded_at) over (partition by bill_date, bill_api) as api_loaded_at
    from deduplicated
),

final as (
    select * exclude (api_loaded_at)
    from landed_last
    qualify dense_rank() over (partition by bill_date order by api_loaded_at desc, bill_api asc) = 1
)

select * from final
