{#
    Fails for a budget whose owner the directory does not know (a typo in a team, cost centre
    or tier would otherwise be a budget that silently never applies). Checked once a directory
    is landed.
#}
with

budgets as (
    select * from {{ ref('budgets') }}
),

directory as (
    select * from {{ ref('int_directory_memberships_historized') }}
),

known_owners as (
    select
        'organisation' as owner_type,
        'organisation' as owner_id
    union all
    select distinct
        'team' as owner_type,
        team_id as owner_id
    from directory
    union all
    select distinct
        'cost_center' as owner_type,
        cost_center as owner_id
    from directory
    union all
    select distinct
        'person_tier' as owner_type,
        allowance_tier as owner_id
    from directory
    union all
    select
        'person_tier' as owner_type,
        'standard' as owner_id
)

select
    budgets.budget_id,
    budgets.owner_type,
    budgets.owner_id
from budgets
left join known_owners
    on budgets.owner_type = known_owners.owner_type and budgets.owner_id = known_owners.owner_id
where known_owners.owner_id is null and exists (select 1 from directory)
