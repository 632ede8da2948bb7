{#
    groups_rolled_up: the CTEs of the minimum-group-size (k, var min_group_size) roll-up over
    `person_days` (a CTE with usage_date, team_id, cost_center, user_email and the `by`
    columns), ending in `rolled_up`: one row per day (and `by`) × team × cost centre with the
    team and cost centre it is published as, and whether it is published at all. Counted per
    month, from the days before the day, so a day's grouping is fixed before the day begins and
    never changes when later days land (docs/privacy.md):
    - a team is published as itself from the day after its k-th person of the month appeared;
    - before that it is team 'other' of its cost centre when that cost centre's unpublished
      teams had k people before the day; else it is in the organisation-wide 'other'/'other';
    - 'other'/'other' is published for a day once its people of the month, that day included,
      are k; until then it is withheld (is_published false) from every published table.
    Rows of no person at all (user_email NULL: report remainders, unknown logins) identify
    nobody: a group with no person yet that month (the day included) is published as itself,
    and its first person's arrival later in the month changes none of its earlier days.
    `person_days` also has `erased`: true on the rows of people erased since (their first day
    in each group, raw.erased_members), who count in the grouping as before their erasure, so
    no day moves to another group; a group is published only while the people left in it are
    k (group_people counts them).
#}
{% macro groups_rolled_up(person_days, by=[]) -%}
    {%- set k = var('min_group_size') | int -%}
    {#- k = 1: a group of one is allowed, so every team is itself from its first day -#}
    {%- set before = '<' if k > 1 else '<=' -%}
    {%- set by_columns = by | join(', ') ~ (', ' if by else '') -%}
    group_days as (
        select distinct
            usage_date,
            date_trunc('month', usage_date) as usage_month,
            {{ by_columns }}team_id,
            cost_center
        from {{ person_days }}
        where not erased
    ),

    first_days as (
        -- each person's first day in the group that month
        select
            date_trunc('month', usage_date) as usage_month,
            {{ by_columns }}team_id,
            cost_center,
            user_email,
            erased,
            min(usage_date) as first_day
        from {{ person_days }}
        where user_email is not null
        group by all
    ),

    team_months as (
        select
            usage_month,
            {{ by_columns }}team_id,
            cost_center,
            -- the day after the k-th person's first day
            min(case when person_rank = {{ k }} then first_day + {{ 1 if k > 1 else 0 }} end) as published_from
        from (
            select
                *,
                row_number() over (
                    partition by usage_month, {{ by_columns }}team_id, cost_center
                    order by first_day, user_email
                ) as person_rank
            from first_days
        ) as ranked
        group by all
    ),

    -- on each day with usage, each person of the month so far, with their team's first day
    -- published as itself
    people_so_far as (
        select
            usage_days.usage_date,
            usage_days.usage_month,
            {% for column in by %}usage_days.{{ column }}, {% endfor %}first_days.team_id,
            first_days.cost_center,
            first_days.user_email,
            first_days.erased,
            first_days.first_day,
            team_months.published_from
        from (
            select distinct
                usage_date,
                usage_month{{ (', ' ~ (by | join(', '))) if by }}
            from group_days
        ) as usage_days
        inner join first_days
            on
                usage_days.usage_month = first_days.usage_month
                {% for column in by %}and usage_days.{{ column }} = first_days.{{ column }}
    {% endfor %}and first_days.first_day <= usage_days.usage_date
        inner join team_months
            on
                first_days.usage_month = team_months.usage_month
                {% for column in by %}and first_days.{{ column }} = team_months.{{ column }}
    {% endfor %}and first_days.team_id = team_months.team_id
                and first_days.cost_center = team_months.cost_center
    ),

    team_counts as (
        select
            usage_date,
            {{ by_columns }}team_id,
            cost_center,
            count(*) filter (where not erased) as people,
            count(*) filter (where first_day {{ before }} usage_date) as people_before,
            count(*) filter (where first_day {{ before }} usage_date and not erased) as people_left_before
        from people_so_far
        group by all
    ),

    unpublished_people as (
        select *
        from people_so_far
        where published_from is null or published_from > usage_date
    ),

    cost_center_buckets as (
        select
            usage_date,
            {{ by_columns }}cost_center,
            count(distinct user_email) filter (where first_day {{ before }} usage_date) as people_before,
            count(distinct user_email) filter (
                where first_day {{ before }} usage_date and not erased
            ) as people_left_before
        from unpublished_people
        group by all
    ),

    remainders as (
        select
            unpublished_people.usage_date,
            {% for column in by %}unpublished_people.{{ column }}, {% endfor %}count(distinct unpublished_people.user_email) filter (
                where not unpublished_people.erased
            ) as people
        from unpublished_people
        inner join cost_center_buckets
            on
                unpublished_people.usage_date = cost_center_buckets.usage_date
                {% for column in by %}and unpublished_people.{{ column }} = cost_center_buckets.{{ column }}
    {% endfor %}and unpublished_people.cost_center = cost_center_buckets.cost_center
        where cost_center_buckets.people_before < {{ k }}
        group by all
    ),

    rolled_up as (
        select
            group_days.usage_date,
            group_days.usage_month,
            {% for column in by %}group_days.{{ column }}, {% endfor %}group_days.team_id,
            group_days.cost_center,
            -- the team's people of the month so far, the day included (0: usage of no person yet)
            coalesce(team_counts.people, 0) as people,
            -- the people the group it is published in had (before the day; the day included for
            -- 'other'/'other'), erased people left out: at least k where published and the
            -- group had a person so far
            case
                when team_counts.team_id is null then 0
                when team_months.published_from <= group_days.usage_date then team_counts.people_left_before
                when cost_center_buckets.people_before >= {{ k }} then cost_center_buckets.people_left_before
                else coalesce(remainders.people, 0)
            end as group_people,
            -- team_counts has the group's people of the month so far, the day included: none,
            -- no row (a later person of the month leaves the day as it was)
            case
                when team_counts.team_id is null or team_months.published_from <= group_days.usage_date
                    then group_days.team_id
                else 'other'
            end as published_team_id,
            case
                when team_counts.team_id is null or team_months.published_from <= group_days.usage_date
                    then group_days.cost_center
                when cost_center_buckets.people_before >= {{ k }} then group_days.cost_center
                else 'other'
            end as published_cost_center,
            case
                when team_counts.team_id is null then true
                when team_months.published_from <= group_days.usage_date
                    then team_counts.people_left_before >= {{ k }}
                when cost_center_buckets.people_before >= {{ k }}
                    then cost_center_buckets.people_left_before >= {{ k }}
                else coalesce(remainders.people >= {{ k }}, false)
            end as is_published
        from group_days
        left join team_months
            on
                group_days.usage_month = team_months.usage_month
                {% for column in by %}and group_days.{{ column }} = team_months.{{ column }}
    {% endfor %}and group_days.team_id = team_months.team_id
                and group_days.cost_center = team_months.cost_center
        left join team_counts
            on
                group_days.usage_date = team_counts.usage_date
                {% for column in by %}and group_days.{{ column }} = team_counts.{{ column }}
    {% endfor %}and group_days.team_id = team_counts.team_id
                and group_days.cost_center = team_counts.cost_center
        left join cost_center_buckets
            on
                group_days.usage_date = cost_center_buckets.usage_date
                {% for column in by %}and group_days.{{ column }} = cost_center_buckets.{{ column }}
    {% endfor %}and group_days.cost_center = cost_center_buckets.cost_center
        left join remainders
            on
                group_days.usage_date = remainders.usage_date
                {% for column in by %}and group_days.{{ column }} = remainders.{{ column }}
    {% endfor %}
    )
{%- endmacro %}
