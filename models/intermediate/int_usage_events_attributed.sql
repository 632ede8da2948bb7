{#- Each event attributed to the team its person was in when the request was made. -#}
with

events as (
    select * from {{ ref('int_usage_events_reconciled') }}
),

memberships as (
    select * from {{ ref('int_directory_memberships_historized') }}
),

attributed as (
    select
        events.*,
        coalesce(memberships.team_id, events.source_team_id, 'unattributed') as team_id,
        coalesce(
            memberships.cost_center,
            case when events.source_team_id is not null then coalesce(events.source_cost_center, 'unassigned') end,
            'unattributed'
        ) as cost_center,
        memberships.allowance_tier
    from events
    left join memberships
        on
            events.user_email = memberships.email
            and events.occurred_at >= memberships.valid_from
            and events.occurred_at < memberships.valid_to
)

select * from attributed
