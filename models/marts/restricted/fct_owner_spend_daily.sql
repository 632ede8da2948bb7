{#-
    Groups (organisation, cost centre, team) count what is published under their name in
    fct_usage_daily, so a published budget never reveals spend withheld under k; a person counts
    their own usage.
-#}
with

events as (
    select * from {{ ref('fct_person_usage_daily') }}
),

published_days as (
    select * from {{ ref('fct_usage_daily') }}
),

people_daily as (
    select
        usage_date,
        user_email,
        coalesce(allowance_tier, 'standard') as allowance_tier,
        sum(cost_usd) as cost_usd,
        sum(total_tokens) as total_tokens,
        sum(requests) as requests
    from events
    where user_email is not null
    group by all
),

by_owner as (
    {% for owner_type, owner_id in [
        ("'organisation'", "'organisation'"),
        ("'cost_center'", "cost_center"),
        ("'team'", "team_id"),
    ] -%}
        select
            usage_date,
            {{ owner_type }} as owner_type,
            {{ owner_id }} as owner_id,
            cast(null as varchar) as allowance_tier,
            cost_usd,
            total_tokens,
            requests
        from published_days
        union all
    {% endfor -%}
    select
        usage_date,
        'person' as owner_type,
        user_email as owner_id,
        allowance_tier,
        cost_usd,
        total_tokens,
        requests
    from people_daily
),

daily as (
    select
        usage_date,
        owner_type,
        owner_id,
        max(allowance_tier) as allowance_tier,
        coalesce(sum(cost_usd), 0) as spend_usd,
        sum(total_tokens) as tokens,
        sum(requests) as requests
    from by_owner
    group by usage_date, owner_type, owner_id
)

select * from daily
