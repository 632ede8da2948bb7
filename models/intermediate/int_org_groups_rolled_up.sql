{#-
    Minimum group size k (var min_group_size): per month, a team with fewer than k active
    people is published as team 'other' of its cost centre; if that bucket, or the cost
    centre itself, has fewer than k people it rolls up to the organisation-wide 'other'.
-#}
with

events as (
    -- the materialised daily person facts (not the upstream views), so history is not recomputed
    select
        usage_date,
        team_id,
        cost_center,
        user_email
    from {{ ref('fct_person_usage_daily') }}
),

team_months as (
    select
        date_trunc('month', usage_date) as usage_month,
        team_id,
        cost_center,
        count(distinct user_email) as people
    from events
    group by all
),

cost_center_months as (
    select
        date_trunc('month', usage_date) as usage_month,
        cost_center,
        count(distinct user_email) as people
    from events
    group by all
),

small_team_buckets as (
    select
        date_trunc('month', events.usage_date) as usage_month,
        events.cost_center,
        count(distinct events.user_email) as people
    from events
    inner join team_months
        on
            date_trunc('month', events.usage_date) = team_months.usage_month
            and events.team_id = team_months.team_id
            and events.cost_center = team_months.cost_center
    where team_months.people < {{ var('min_group_size') }}
    group by all
),

rolled_up as (
    select
        team_months.usage_month,
        team_months.team_id,
        team_months.cost_center,
        team_months.people,
        -- usage with no person at all (report remainders of unowned keys) identifies nobody
        case
            when team_months.people = 0 or team_months.people >= {{ var('min_group_size') }} then team_months.team_id
            else 'other'
        end as published_team_id,
        case
            when team_months.people = 0 or team_months.people >= {{ var('min_group_size') }}
                then team_months.cost_center
            when
                cost_center_months.people >= {{ var('min_group_size') }}
                and coalesce(small_team_buckets.people, 0) >= {{ var('min_group_size') }}
                then team_months.cost_center
            else 'other'
        end as published_cost_center
    from team_months
    inner join cost_center_months
        on
            team_months.usage_month = cost_center_months.usage_month
            and team_months.cost_center = cost_center_months.cost_center
    left join small_team_buckets
        on
            team_months.usage_month = small_team_buckets.usage_month
            and team_months.cost_center = small_team_buckets.cost_center
)

select * from rolled_up
