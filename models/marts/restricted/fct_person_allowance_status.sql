with

statuses as (
    select * from {{ ref('fct_budget_status_all') }}
    where owner_type = 'person'
),

-- the pseudonym as computed once per person, in the daily person facts
person_keys as (
    select distinct
        user_email,
        user_key
    from {{ ref('fct_person_usage_daily') }}
),

final as (
    select
        statuses.period_start,
        statuses.period_end,
        statuses.budget_id,
        statuses.owner_id as user_email,
        person_keys.user_key,
        statuses.budget_usd,
        statuses.spend_to_date_usd,
        statuses.forecast_usd,
        statuses.pct_used,
        statuses.threshold_crossed_pct,
        statuses.threshold_crossed_on,
        statuses.status
    from statuses
    left join person_keys on statuses.owner_id = person_keys.user_email
)

select * from final
