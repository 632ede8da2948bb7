with

statuses as (
    select * from {{ ref('fct_budget_status_all') }}
),

published as (
    -- owners of at least k people only; per-person allowances stay private
    select *
    from statuses
    where
        owner_type = 'organisation'
        or (owner_type in ('team', 'cost_center') and people >= {{ var('min_group_size') }})
),

final as (
    select
        period_start,
        period_end,
        owner_type,
        owner_id,
        budget_id,
        as_of_date,
        cast(budget_usd as decimal(38, 9)) as budget_usd,
        cast(spend_to_date_usd as decimal(38, 9)) as spend_to_date_usd,
        cast(forecast_usd as decimal(38, 9)) as forecast_usd,
        cast(pct_used as double) as pct_used,
        budget_tokens,
        cast(tokens_to_date as bigint) as tokens_to_date,
        threshold_crossed_pct,
        threshold_crossed_on,
        status
    from published
)

select * from final
