with

statuses as (
    select * from {{ ref('fct_budget_status_all') }}
    where owner_type = 'person'
),

final as (
    select
        period_start,
        period_end,
        budget_id,
        owner_id as user_email,
        {{ pseudonymize('owner_id') }} as user_key,
        budget_usd,
        spend_to_date_usd,
        forecast_usd,
        pct_used,
        threshold_crossed_pct,
        threshold_crossed_on,
        status
    from statuses
)

select * from final
