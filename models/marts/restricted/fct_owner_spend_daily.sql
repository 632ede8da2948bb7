with

events as (
    select * from {{ ref('fct_usage_events') }}
),

by_owner as (
    select
        usage_date,
        'organisation' as owner_type,
        'organisation' as owner_id,
        cast(null as varchar) as allowance_tier,
        cost_usd,
        total_tokens,
        requests,
        user_email
    from events
    union all
    select
        usage_date,
        'cost_center' as owner_type,
        cost_center as owner_id,
        cast(null as varchar) as allowance_tier,
        cost_usd,
        total_tokens,
        requests,
        user_email
    from events
    union all
    select
        usage_date,
        'team' as owner_type,
        team_id as owner_id,
        cast(null as varchar) as allowance_tier,
        cost_usd,
        total_tokens,
        requests,
        user_email
    from events
    union all
    select
        usage_date,
        'person' as owner_type,
        user_email as owner_id,
        coalesce(allowance_tier, 'standard') as allowance_tier,
        cost_usd,
        total_tokens,
        requests,
        user_email
    from events
    where user_email is not null
),

daily as (
    select
        usage_date,
        owner_type,
        owner_id,
        max(allowance_tier) as allowance_tier,
        coalesce(sum(cost_usd), 0) as spend_usd,
        sum(total_tokens) as tokens,
        sum(requests) as requests,
        count(distinct user_email) as people
    from by_owner
    group by usage_date, owner_type, owner_id
)

select * from daily
