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
        partition by bucket_start, model, service_tier, cost_type, token_type, context_window, workspace_id, description
        order by loaded_at desc, source_line desc
    ) = 1
)

select * from deduplicated
