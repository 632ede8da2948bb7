with

events as (
    select * from {{ ref('fct_usage_events') }}
    where reported_cost_usd is not null
),

daily as (
    select
        usage_date,
        source_format,
        coalesce(catalog_provider, 'other') as provider,
        coalesce(model_id, 'unpriced') as model_id,
        sum(requests) as requests,
        sum(reported_cost_usd) as reported_cost_usd,
        sum(list_cost_usd) as computed_list_cost_usd,
        sum(cost_usd) as computed_cost_usd
    from events
    group by all
),

final as (
    select
        usage_date,
        source_format,
        provider,
        model_id,
        cast(requests as bigint) as requests,
        cast(reported_cost_usd as decimal(38, 9)) as reported_cost_usd,
        cast(computed_list_cost_usd as decimal(38, 9)) as computed_list_cost_usd,
        cast(computed_cost_usd as decimal(38, 9)) as computed_cost_usd,
        cast(reported_cost_usd - computed_list_cost_usd as decimal(38, 9)) as difference_usd,
        case
            when computed_list_cost_usd is null then null
            when computed_list_cost_usd = 0 then case when reported_cost_usd = 0 then 0.0 end
            else cast((reported_cost_usd - computed_list_cost_usd) / computed_list_cost_usd as double)
        end as relative_difference,
        coalesce(
            abs(reported_cost_usd - computed_list_cost_usd)
            > {{ var('cost_reconciliation_tolerance') }} * greatest(abs(computed_list_cost_usd), 0.01),
            true
        ) as is_flagged
    from daily
)

select * from final
