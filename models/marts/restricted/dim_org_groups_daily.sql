{#-
    The published groups under the minimum group size k (var min_group_size), per day: see the
    groups_rolled_up macro and docs/privacy.md.
-#}
with

person_days as (
    -- the materialised daily person facts (not the upstream views), so history is not recomputed
    select
        usage_date,
        team_id,
        cost_center,
        user_email
    from {{ ref('fct_person_usage_daily') }}
),

{{ groups_rolled_up('person_days') }}

select * from rolled_up
