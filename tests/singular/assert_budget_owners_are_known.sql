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
    select 'organisation' as owner_type, 'organisation' as owner_id
    union all
    select distinct 'team', team_id from directory
    union all
    select distinct 'cost_center', cost_center from directory
    union all
    select distinct 'person_tier', allowance_tier from directory
    union all
    select 'person_tier', 'standard'
)

select budgets.budget_id, budgets.owner_type, budgets.owner_id
from budgets
left join known_owners
    on budgets.owner_type = known_owners.owner_type and budgets.owner_id = known_owners.owner_id
where known_owners.owner_id is null and exists (select 1 from directory)
