{#-
    The published groups under the minimum group size k (var min_group_size), per day: see the
    groups_rolled_up macro and docs/privacy.md.
-#}
with

person_usage_days as (
    -- the materialised daily person facts (not the upstream views), so history is not recomputed
    select * from {{ ref('fct_person_usage_daily') }}
),

erased_members as (
    select * from {{ ref('stg_landing__erased_members') }}
),

person_days as (
    select
        usage_date,
        team_id,
        cost_center,
        user_email,
        false as erased
    from person_usage_days
    union all
    -- people erased since: counted where they were, from their first day (groups_rolled_up)
    select
        first_day as usage_date,
        team_id,
        cost_center,
        'erased ' || member_id as user_email,
        true as erased
    from erased_members
    where tool is null
),

{{ groups_rolled_up('person_days') }}

select * from rolled_up
