{#-
    Each event attributed to the team its person was in when the request was made. A team a
    source names (OpenTelemetry resource attributes, LiteLLM's team_id, the key owners' mapping)
    is used only where the person is unknown, and only when the directory knows that team (its
    latest cost centre with it); any other source label is 'unknown': a source can put anything,
    a name or an email included, in such a field.
-#}
with

events as (
    select * from {{ ref('int_usage_events_reconciled') }}
),

memberships as (
    select * from {{ ref('int_directory_memberships_historized') }}
),

directory_teams as (
    select
        source_team_id,
        arg_max(team_id, valid_from) as team_id,
        arg_max(cost_center, valid_from) as cost_center
    from memberships
    group by source_team_id
),

attributed as (
    select
        events.*,
        coalesce(
            memberships.team_id,
            directory_teams.team_id,
            case when events.source_team_id is not null then 'unknown' end,
            'unattributed'
        ) as team_id,
        coalesce(
            memberships.cost_center,
            directory_teams.cost_center,
            case when events.source_team_id is not null then 'unknown' end,
            'unattributed'
        ) as cost_center,
        memberships.allowance_tier
    from events
    left join memberships
        on
            events.user_email = memberships.email
            and events.occurred_at >= memberships.valid_from
            and events.occurred_at < memberships.valid_to
    left join directory_teams
        on lower(trim(events.source_team_id)) = directory_teams.source_team_id
)

select * from attributed
