{#-
    What the tokens bought, per person × day × tool (CONTRACT.md section 8), attributed to the
    team the person was in that day. Claude Code: where the analytics report has a row for a
    person-day, every outcome count of that day comes from it (zeros included); OpenTelemetry
    metrics give the person-days the report does not cover, and active_seconds always. The
    report's API-key rows and Copilot logins the directory does not know have no person: kept,
    with user_email NULL, as team 'unattributed'.
-#}
with

metric_increments as (
    select * from {{ ref('int_outcome_points_differenced') }}
),

analytics_days as (
    select * from {{ ref('stg_claude_code__analytics_days') }}
),

copilot_days as (
    select * from {{ ref('stg_copilot__user_days') }}
),

directory_changes as (
    select * from {{ ref('stg_people__directory_changes') }}
),

memberships as (
    select * from {{ ref('int_directory_memberships_historized') }}
),

otel_days as (
    select
        user_email,
        usage_date,
        sum(increment) filter (where metric_name = 'claude_code.session.count') as sessions,
        sum(increment) filter (where metric_name = 'claude_code.commit.count') as commits,
        sum(increment) filter (where metric_name = 'claude_code.pull_request.count') as pull_requests,
        sum(increment) filter (where metric_name = 'claude_code.lines_of_code.count' and lines_type = 'added')
            as lines_added,
        sum(increment) filter (where metric_name = 'claude_code.lines_of_code.count' and lines_type = 'removed')
            as lines_removed,
        sum(increment) filter (where metric_name = 'claude_code.code_edit_tool.decision' and decision = 'accept')
            as edits_accepted,
        sum(increment) filter (where metric_name = 'claude_code.code_edit_tool.decision' and decision = 'reject')
            as edits_rejected,
        sum(increment) filter (where metric_name = 'claude_code.active_time.total') as active_seconds
    from metric_increments
    group by all
),

claude_code_days as (
    select
        coalesce(analytics_days.usage_date, otel_days.usage_date) as usage_date,
        'claude-code' as tool,
        coalesce(analytics_days.user_email, otel_days.user_email) as user_email,
        -- the one precedence rule: a report row stands for the whole person-day
        analytics_days.usage_date is not null as from_report,
        coalesce(analytics_days.sessions, otel_days.sessions, 0) as sessions,
        coalesce(analytics_days.commits, otel_days.commits, 0) as commits,
        coalesce(analytics_days.pull_requests, otel_days.pull_requests, 0) as pull_requests,
        coalesce(analytics_days.lines_added, otel_days.lines_added, 0) as lines_added,
        coalesce(analytics_days.lines_removed, otel_days.lines_removed, 0) as lines_removed,
        coalesce(analytics_days.edits_accepted, otel_days.edits_accepted, 0) as edits_accepted,
        coalesce(analytics_days.edits_rejected, otel_days.edits_rejected, 0) as edits_rejected,
        coalesce(otel_days.active_seconds, 0) as active_seconds,
        0 as tool_tokens,
        0 as ai_credits_used
    from analytics_days
    full outer join otel_days
        on
            analytics_days.user_email = otel_days.user_email
            and analytics_days.usage_date = otel_days.usage_date
),

copilot_logins as (
    select distinct
        github_login,
        email
    from directory_changes
    where github_login is not null
),

copilot_person_days as (
    select
        copilot_days.usage_date,
        'copilot' as tool,
        copilot_logins.email as user_email,
        false as from_report,
        copilot_days.sessions,
        0 as commits,
        0 as pull_requests,
        copilot_days.lines_added,
        copilot_days.lines_removed,
        copilot_days.edits_accepted,
        copilot_days.edits_rejected,
        0 as active_seconds,
        copilot_days.total_tokens as tool_tokens,
        copilot_days.ai_credits_used
    from copilot_days
    left join copilot_logins on copilot_days.github_login = copilot_logins.github_login
),

person_days as (
    select * from claude_code_days
    union all
    select * from copilot_person_days
),

final as (
    select
        person_days.*,
        coalesce(memberships.team_id, 'unattributed') as team_id,
        coalesce(memberships.cost_center, 'unattributed') as cost_center
    from person_days
    left join memberships
        on
            person_days.user_email = memberships.email
            and cast(person_days.usage_date as timestamp) >= memberships.valid_from
            and cast(person_days.usage_date as timestamp) < memberships.valid_to
)

select * from final
