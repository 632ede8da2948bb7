{#
    groups_rolled_up: the CTEs of the minimum-group-size (k, var min_group_size) roll-up over
    `person_days` (a CTE with usage_date, team_id, cost_center, user_email and the `by`
    columns), ending in `rolled_up`: per month (and `by`), a team with fewer than k active
    people is published as team 'other' of its cost centre; if that bucket, or the cost centre
    itself, has fewer than k people it rolls up to the organisation-wide 'other'. Rows of no
    person at all (user_email NULL: report remainders, unknown logins) identify nobody.
#}
{% macro groups_rolled_up(person_days, by=[]) -%}
    {%- set k = var('min_group_size') -%}
    {%- set keys, team_keys, on_people, on_centres, on_buckets = [], [], [], [], [] -%}
    {%- for column in by -%}
        {%- do keys.append(column ~ ', ') -%}
        {%- do team_keys.append('team_months.' ~ column ~ ', ') -%}
        {%- do on_people.append(person_days ~ '.' ~ column ~ ' = team_months.' ~ column ~ ' and ') -%}
        {%- do on_centres.append('team_months.' ~ column ~ ' = cost_center_months.' ~ column ~ ' and ') -%}
        {%- do on_buckets.append('team_months.' ~ column ~ ' = small_team_buckets.' ~ column ~ ' and ') -%}
    {%- endfor -%}
    team_months as (
        select
            date_trunc('month', usage_date) as usage_month,
            {{ keys | join('') }}team_id,
            cost_center,
            count(distinct user_email) as people
        from {{ person_days }}
        group by all
    ),

    cost_center_months as (
        select
            date_trunc('month', usage_date) as usage_month,
            {{ keys | join('') }}cost_center,
            count(distinct user_email) as people
        from {{ person_days }}
        group by all
    ),

    small_team_buckets as (
        select
            team_months.usage_month,
            {{ team_keys | join('') }}team_months.cost_center,
            count(distinct {{ person_days }}.user_email) as people
        from {{ person_days }}
        inner join team_months
            on
                {{ on_people | join('') }}date_trunc('month', {{ person_days }}.usage_date) = team_months.usage_month
                and {{ person_days }}.team_id = team_months.team_id
                and {{ person_days }}.cost_center = team_months.cost_center
        where team_months.people < {{ k }}
        group by all
    ),

    rolled_up as (
        select
            team_months.usage_month,
            {{ team_keys | join('') }}team_months.team_id,
            team_months.cost_center,
            team_months.people,
            case
                when team_months.people = 0 or team_months.people >= {{ k }} then team_months.team_id
                else 'other'
            end as published_team_id,
            case
                when team_months.people = 0 or team_months.people >= {{ k }} then team_months.cost_center
                when
                    cost_center_months.people >= {{ k }}
                    and coalesce(small_team_buckets.people, 0) >= {{ k }}
                    then team_months.cost_center
                else 'other'
            end as published_cost_center
        from team_months
        inner join cost_center_months
            on
                {{ on_centres | join('') }}team_months.usage_month = cost_center_months.usage_month
                and team_months.cost_center = cost_center_months.cost_center
        left join small_team_buckets
            on
                {{ on_buckets | join('') }}team_months.usage_month = small_team_buckets.usage_month
                and team_months.cost_center = small_team_buckets.cost_center
    )
{%- endmacro %}
