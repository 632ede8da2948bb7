with

events as (
    select * from {{ ref('fct_person_usage_daily') }}
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
        from events
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
