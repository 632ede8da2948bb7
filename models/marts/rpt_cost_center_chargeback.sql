with

daily as (
    select * from {{ ref('fct_usage_daily') }}
),

budgets as (
    select * from {{ ref('fct_budget_status') }}
    where owner_type = 'cost_center'
),

monthly as (
    select
        cast(date_trunc('month', usage_date) as date) as usage_month,
        cost_center,
        sum(requests) as requests,
        sum(total_tokens) as total_tokens,
        sum(list_cost_usd) as list_cost_usd,
        sum(cost_usd) as cost_usd,
        sum(unpriced_requests) as unpriced_requests
    from daily
    group by all
),

final as (
    select
        monthly.usage_month,
        monthly.cost_center,
        cast(monthly.requests as bigint) as requests,
        cast(monthly.total_tokens as bigint) as total_tokens,
        cast(monthly.list_cost_usd as decimal(38, 9)) as list_cost_usd,
        cast(monthly.cost_usd as decimal(38, 9)) as chargeback_usd,
        cast(monthly.list_cost_usd - monthly.cost_usd as decimal(38, 9)) as negotiated_savings_usd,
        cast(monthly.cost_usd / sum(monthly.cost_usd) over (partition by monthly.usage_month) as double)
            as share_of_month,
        cast(budgets.budget_usd as decimal(38, 9)) as budget_usd,
        cast(monthly.unpriced_requests as bigint) as unpriced_requests
    from monthly
    left join budgets
        on
            monthly.cost_center = budgets.owner_id
            and monthly.usage_month = budgets.period_start
)

select * from final
