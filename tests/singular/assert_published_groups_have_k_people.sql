{#-
    No published group row describes fewer than k people (var min_group_size), recounted here
    from the person facts by the rule of docs/privacy.md rather than read from the roll-up: on
    each day a group is published in fct_usage_daily (and per tool in fct_outcomes_daily), a team
    published as itself had k people of the month before the day; a cost centre's 'other' had k
    people before the day in its teams not yet published; the organisation-wide 'other'/'other'
    has k people of the month, the day included, in the teams of neither. A group of no person
    yet in the month, the day included (provider report remainders) identifies nobody. People
    erased since count where they were (raw.erased_members) for the grouping, but not among
    the k. Returns what breaks it.
-#}
{%- set k = var('min_group_size') | int -%}
{%- set before = '<' if k > 1 else '<=' -%}
{%- set marts = [
    ('fct_usage_daily', "'usage'", 'usage_persons'),
    ('fct_outcomes_daily', 'cast(tool as varchar)', 'outcome_persons'),
] -%}
with

erased_members as (
    select
        first_day as usage_date,
        coalesce(tool, 'usage') as tool,
        team_id,
        cost_center,
        'erased ' || member_id as user_email,
        true as erased
    from {{ ref('stg_landing__erased_members') }}
),

usage_persons as (
    select distinct
        usage_date,
        'usage' as tool,
        team_id,
        cost_center,
        user_email,
        false as erased
    from {{ ref('fct_person_usage_daily') }}
    union all
    select * from erased_members
    where tool = 'usage'
),

outcome_persons as (
    select distinct
        usage_date,
        tool,
        team_id,
        cost_center,
        user_email,
        false as erased
    from {{ ref('int_outcomes_person_days') }}
    union
    select distinct
        usage_date,
        'claude-code' as tool,
        team_id,
        cost_center,
        user_email,
        false as erased
    from {{ ref('fct_person_usage_daily') }}
    where application = 'claude-code'
    union all
    select * from erased_members
    where tool != 'usage'
),

{% for mart, tool, persons in marts %}
    {{ mart }}_labels as (
        select distinct
            usage_date,
            {{ tool }} as tool,
            team_id,
            cost_center
        from {{ ref(mart) }}
    ),

    {{ mart }}_firsts as (
        select
            date_trunc('month', usage_date) as usage_month,
            tool,
            team_id,
            cost_center,
            user_email,
            erased,
            min(usage_date) as first_day
        from {{ persons }}
        where user_email is not null
        group by all
    ),

    {{ mart }}_days as (
        select distinct
            usage_date,
            date_trunc('month', usage_date) as usage_month,
            tool
        from {{ mart }}_labels
    ),

    {{ mart }}_team_counts as (
        select
            days.usage_date,
            days.usage_month,
            firsts.tool,
            firsts.team_id,
            firsts.cost_center,
            count(*) filter (where firsts.first_day {{ before }} days.usage_date) as people_before,
            count(*) filter (
                where firsts.first_day {{ before }} days.usage_date and not firsts.erased
            ) as people_left_before
        from {{ mart }}_days as days
        inner join {{ mart }}_firsts as firsts
            on
                days.usage_month = firsts.usage_month
                and days.tool = firsts.tool
                and days.usage_date >= firsts.first_day
        group by all
    ),

    {{ mart }}_closed as (
        select
            counts.usage_date,
            counts.tool,
            counts.cost_center,
            firsts.user_email,
            firsts.erased,
            firsts.first_day
        from {{ mart }}_team_counts as counts
        inner join {{ mart }}_firsts as firsts
            on
                counts.usage_month = firsts.usage_month
                and counts.tool = firsts.tool
                and counts.team_id = firsts.team_id
                and counts.cost_center = firsts.cost_center
                and counts.usage_date >= firsts.first_day
        where counts.people_before < {{ k }}
    ),

    {{ mart }}_bucket_counts as (
        select
            usage_date,
            tool,
            cost_center,
            count(distinct user_email) filter (where first_day {{ before }} usage_date) as people_before,
            count(distinct user_email) filter (
                where first_day {{ before }} usage_date and not erased
            ) as people_left_before
        from {{ mart }}_closed
        group by all
    ),

    {{ mart }}_remainder_counts as (
        select
            closed.usage_date,
            closed.tool,
            count(distinct closed.user_email) filter (where not closed.erased) as people
        from {{ mart }}_closed as closed
        inner join {{ mart }}_bucket_counts as buckets
            on
                closed.usage_date = buckets.usage_date
                and closed.tool = buckets.tool
                and closed.cost_center = buckets.cost_center
        where buckets.people_before < {{ k }}
        group by all
    ),

    {{ mart }}_checked as (
        select
            '{{ mart }}' as mart,
            labels.usage_date,
            labels.tool,
            labels.team_id,
            labels.cost_center,
            case
                when labels.team_id != 'other' then teams.people_left_before
                when labels.cost_center != 'other' then buckets.people_left_before
                else remainders.people
            end as people,
            exists (
                select 1
                from {{ mart }}_firsts as firsts
                where
                    firsts.usage_month = date_trunc('month', labels.usage_date)
                    and firsts.first_day <= labels.usage_date
                    and firsts.tool = labels.tool
                    and firsts.team_id = labels.team_id
                    and firsts.cost_center = labels.cost_center
            ) or labels.team_id = 'other' as has_people
        from {{ mart }}_labels as labels
        left join {{ mart }}_team_counts as teams
            on
                labels.usage_date = teams.usage_date
                and labels.tool = teams.tool
                and labels.team_id = teams.team_id
                and labels.cost_center = teams.cost_center
        left join {{ mart }}_bucket_counts as buckets
            on
                labels.usage_date = buckets.usage_date
                and labels.tool = buckets.tool
                and labels.cost_center = buckets.cost_center
        left join {{ mart }}_remainder_counts as remainders
            on
                labels.usage_date = remainders.usage_date
                and labels.tool = remainders.tool
    ),
{% endfor %}

breaches as (
    {% for mart, tool, persons in marts %}
        select * from {{ mart }}_checked
        where has_people and coalesce(people, 0) < {{ k }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select * from breaches
