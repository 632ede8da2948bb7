with

all_events as (
    select * from {{ ref('fct_usage_events') }}
    where reported_cost_usd is not null
),

org_groups as (
    select * from {{ ref('int_org_groups_rolled_up') }}
),

events as (
    -- what fct_usage_daily publishes (k): never the usage of a group withheld that day
    select all_events.*
    from all_events
    inner join org_groups
        on
            all_events.usage_date = org_groups.usage_date
            and all_events.team_id = org_groups.team_id
            and all_events.cost_center = org_groups.cost_center
    where org_groups.is_published
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
