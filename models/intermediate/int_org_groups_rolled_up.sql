{#-
    Minimum group size k (var min_group_size): per month, a team with fewer than k active
    people is published as team 'other' of its cost centre; if that bucket, or the cost centre
    itself, has fewer than k people it rolls up to the organisation-wide 'other'.
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
