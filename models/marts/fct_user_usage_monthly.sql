{#-
    Complete months only, once over for var('person_rows_lag_days') days, as of
    var('as_of_date') (by default the day the build runs): a row that changed while its month
    runs would show, between two publishes, which user_key was active while the rows of which
    team changed (docs/privacy.md).
-#}
{%- set as_of_date = var('as_of_date') or run_started_at.strftime('%Y-%m-%d') %}
{%- set figures = ['requests', 'input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_write_tokens',
                   'total_tokens', 'cost_usd'] %}
with

events as (
    select * from {{ ref('fct_person_usage_daily') }}
    where usage_date < date_trunc('month', cast('{{ as_of_date }}' as date) - {{ var('person_rows_lag_days') }})
),

org_groups as (
    select * from {{ ref('dim_org_groups_daily') }}
),

monthly as (
    select
        cast(date_trunc('month', usage_date) as date) as usage_month,
        user_email,
        user_key,
        sum(requests) as requests,
        sum(input_tokens) as input_tokens,
        sum(output_tokens) as output_tokens,
        sum(cache_read_tokens) as cache_read_tokens,
        sum(cache_write_5m_tokens + cache_write_1h_tokens) as cache_write_tokens,
        sum(total_tokens) as total_tokens,
        sum(cost_usd) as cost_usd,
        count(distinct usage_date) as active_days
    from events
    where user_email is not null
    group by all
),

-- each person's days in the groups fct_usage_daily publishes (team and cost centre as published)
published_days as (
    select
        cast(date_trunc('month', events.usage_date) as date) as usage_month,
        events.usage_date,
        org_groups.published_team_id as team_id,
        org_groups.published_cost_center as cost_center,
        events.provider,
        events.catalog_provider,
        events.model_id,
        events.application,
        events.user_key,
        events.requests,
        events.input_tokens,
        events.output_tokens,
        events.cache_read_tokens,
        events.cache_write_5m_tokens + events.cache_write_1h_tokens as cache_write_tokens,
        events.total_tokens,
        events.cost_usd
    from events
    inner join org_groups
        on
            events.usage_date = org_groups.usage_date
            and events.team_id = org_groups.team_id
            and events.cost_center = org_groups.cost_center
    where org_groups.is_published and events.user_key is not null
),

-- each person's slices of the month (provider and application as reported, finer than the
-- published ones), with the people of each slice
person_slice_months as (
    select distinct
        usage_month,
        team_id,
        cost_center,
        provider,
        catalog_provider,
        model_id,
        application,
        user_key
    from published_days
),

person_slices as (
    select
        *,
        count(*) over (
            partition by usage_month, team_id, cost_center, provider, catalog_provider, model_id, application
        ) as slice_people
    from person_slice_months
),

-- a person's month is published when at least one of its slices was shared by k people: the
-- month of someone who alone (or with fewer than k) used every slice they used (a model no one
-- else in the team used, and nothing else) is those slices' sum in fct_usage_daily, which ties
-- its user_key to the team (docs/privacy.md)
shared_months as (
    select
        usage_month,
        user_key
    from person_slices
    group by usage_month, user_key
    having max(slice_people) >= {{ var('min_group_size') }}
),

-- the published groups' months as their people used them: what fct_usage_daily shows of each,
-- less usage no person is known for (a provider report's remainder), so never more
group_months as (
    select
        usage_month,
        team_id,
        cost_center,
        {% for figure in figures -%}
            sum({{ figure }}) as {{ figure }},
        {% endfor -%}
        count(distinct usage_date) as active_days
    from published_days
    group by all
),

ranked_groups as (
    select
        *,
        row_number() over (
            partition by usage_month order by cost_usd desc nulls last, total_tokens desc, team_id asc, cost_center asc
        ) as month_rank,
        first_value(cost_center) over (
            partition by usage_month order by cost_usd desc nulls last, total_tokens desc, team_id asc, cost_center asc
        ) as leading_cost_center
    from group_months
),

-- the month's largest group and the largest of another cost centre (or the second largest, in
-- an organisation of one cost centre): a person's figures are capped at the smaller of the two,
-- figure by figure, so every person's row fits in two groups of two cost centres. Without it,
-- a person who used more than every group but one (the top user of the leaderboard) is tied
-- to that group by comparing their row with the groups' months (docs/privacy.md)
cap_groups as (
    select * from ranked_groups
    qualify row_number() over (
        partition by usage_month order by month_rank = 1 desc, cost_center <> leading_cost_center desc, month_rank asc
    ) <= 2
),

caps as (
    select
        usage_month,
        {% for figure in figures -%}
            min({{ figure }}) as {{ figure }},
        {% endfor -%}
        min(active_days) as active_days
    from cap_groups
    group by usage_month
    having count(*) = 2
),

-- every figure to two significant figures: exact per-person totals could be matched against a
-- team's exact totals (subset sums) to tie a user_key to its team (docs/privacy.md); a cap
-- floored to two significant figures, so a capped figure is never above it
coarsened as (
    select
        monthly.usage_month,
        monthly.user_key,
        {% for figure in figures -%}
            case
                when monthly.{{ figure }} = 0 then 0
                else
                    round(monthly.{{ figure }} / power(10, floor(log10(abs(monthly.{{ figure }}))) - 1))
                    * power(10, floor(log10(abs(monthly.{{ figure }}))) - 1)
            end as {{ figure }},
            case
                when caps.{{ figure }} <= 0 then 0
                else
                    floor(caps.{{ figure }} / power(10, floor(log10(caps.{{ figure }})) - 1))
                    * power(10, floor(log10(caps.{{ figure }})) - 1)
            end as {{ figure }}_cap,
        {% endfor -%}
        monthly.active_days,
        caps.active_days as active_days_cap
    from monthly
    inner join shared_months
        on monthly.usage_month = shared_months.usage_month and monthly.user_key = shared_months.user_key
    left join caps on monthly.usage_month = caps.usage_month
),

capped as (
    select
        usage_month,
        user_key,
        {% for figure in figures + ['active_days'] -%}
            case when {{ figure }} > {{ figure }}_cap then {{ figure }}_cap else {{ figure }} end as {{ figure }},
        {% endfor -%}
        (
            {% for figure in figures -%}
                {{ figure }} > {{ figure }}_cap {{- ' or' if not loop.last }}
            {% endfor -%}
        ) as is_capped
    from coarsened
),

final as (
    select
        usage_month,
        user_key,
        cast(requests as bigint) as requests,
        cast(input_tokens as bigint) as input_tokens,
        cast(output_tokens as bigint) as output_tokens,
        cast(cache_read_tokens as bigint) as cache_read_tokens,
        cast(cache_write_tokens as bigint) as cache_write_tokens,
        cast(total_tokens as bigint) as total_tokens,
        cast(cost_usd as decimal(38, 9)) as cost_usd,
        cast(active_days as bigint) as active_days,
        coalesce(is_capped, false) as is_capped
    from capped
)

select * from final
