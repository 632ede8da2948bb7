with

events as (
    select * from {{ ref('fct_person_usage_daily') }}
),

-- one row per person and day (and team, in case of a move that day) before the four rollups:
-- a fraction of the per-model rows, so the union below stays small
people_daily as (
    select
        usage_date,
        user_email,
        team_id,
        cost_center,
        allowance_tier,
        sum(cost_usd) as cost_usd,
        sum(total_tokens) as total_tokens,
        sum(requests) as requests
    from events
    group by all
),

by_owner as (
    {% for owner_type, owner_id, tier in [
        ("'organisation'", "'organisation'", "cast(null as varchar)"),
        ("'cost_center'", "cost_center", "cast(null as varchar)"),
        ("'team'", "team_id", "cast(null as varchar)"),
        ("'person'", "user_email", "coalesce(allowance_tier, 'standard')"),
    ] -%}
        select
            usage_date,
            {{ owner_type }} as owner_type,
            {{ owner_id }} as owner_id,
            {{ tier }} as allowance_tier,
            cost_usd,
            total_tokens,
            requests,
            user_email
        from people_daily
        {% if owner_type == "'person'" %}where user_email is not null{% endif %}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
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
