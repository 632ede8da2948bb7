{#-
    What the tokens bought, per day × team × cost centre × tool (CONTRACT.md section 8). A
    person counts as active with Claude Code on a day with Claude Code usage or outcomes, with
    Copilot on a day in its report. Groups are rolled up under k as in fct_usage_daily (per
    day, from the month's days before it), counting the people active with the tool.
-#}
with

outcome_days as (
    select * from {{ ref('int_outcomes_person_days') }}
),

usage_days as (
    select * from {{ ref('fct_person_usage_daily') }}
    where application = 'claude-code'
),

erased_members as (
    select * from {{ ref('stg_landing__erased_members') }}
),

claude_code_usage as (
    select
        usage_date,
        'claude-code' as tool,
        user_email,
        team_id,
        cost_center,
        sum(total_tokens) as total_tokens,
        sum(cost_usd) as cost_usd
    from usage_days
    group by all
),

person_days as (
    select
        coalesce(outcome_days.usage_date, claude_code_usage.usage_date) as usage_date,
        coalesce(outcome_days.tool, claude_code_usage.tool) as tool,
        coalesce(outcome_days.user_email, claude_code_usage.user_email) as user_email,
        coalesce(outcome_days.team_id, claude_code_usage.team_id) as team_id,
        coalesce(outcome_days.cost_center, claude_code_usage.cost_center) as cost_center,
        coalesce(outcome_days.sessions, 0) as sessions,
        coalesce(outcome_days.commits, 0) as commits,
        coalesce(outcome_days.pull_requests, 0) as pull_requests,
        coalesce(outcome_days.lines_added, 0) as lines_added,
        coalesce(outcome_days.lines_removed, 0) as lines_removed,
        coalesce(outcome_days.edits_accepted, 0) as edits_accepted,
        coalesce(outcome_days.edits_rejected, 0) as edits_rejected,
        coalesce(outcome_days.active_seconds, 0) as active_seconds,
        coalesce(claude_code_usage.total_tokens, outcome_days.tool_tokens, 0) as total_tokens,
        coalesce(
            claude_code_usage.cost_usd,
            outcome_days.ai_credits_used * {{ var('copilot_usd_per_ai_credit') }},
            0
        ) as cost_usd
    from outcome_days
    full outer join claude_code_usage
        on
            outcome_days.tool = claude_code_usage.tool
            and outcome_days.user_email = claude_code_usage.user_email
            and outcome_days.usage_date = claude_code_usage.usage_date
),

members as (
    select
        usage_date,
        tool,
        team_id,
        cost_center,
        user_email,
        false as erased
    from person_days
    union all
    -- people erased since: counted where they were, from their first day (groups_rolled_up)
    select
        first_day as usage_date,
        tool,
        team_id,
        cost_center,
        'erased ' || member_id as user_email,
        true as erased
    from erased_members
    where tool is not null
),

{{ groups_rolled_up('members', by=['tool']) }},

published as (
    select
        person_days.usage_date,
        rolled_up.published_team_id as team_id,
        rolled_up.published_cost_center as cost_center,
        person_days.tool,
        count(distinct person_days.user_email) as active_users,
        sum(person_days.sessions) as sessions,
        sum(person_days.commits) as commits,
        sum(person_days.pull_requests) as pull_requests,
        sum(person_days.lines_added) as lines_added,
        sum(person_days.lines_removed) as lines_removed,
        sum(person_days.edits_accepted) as edits_accepted,
        sum(person_days.edits_rejected) as edits_rejected,
        sum(person_days.active_seconds) as active_seconds,
        sum(person_days.total_tokens) as total_tokens,
        sum(person_days.cost_usd) as cost_usd
    from person_days
    inner join rolled_up
        on
            person_days.usage_date = rolled_up.usage_date
            and person_days.tool = rolled_up.tool
            and person_days.team_id = rolled_up.team_id
            and person_days.cost_center = rolled_up.cost_center
    where rolled_up.is_published
    group by all
),

final as (
    select
        usage_date,
        team_id,
        cost_center,
        tool,
        cast(active_users as bigint) as active_users,
        cast(sessions as bigint) as sessions,
        cast(commits as bigint) as commits,
        cast(pull_requests as bigint) as pull_requests,
        cast(lines_added as bigint) as lines_added,
        cast(lines_removed as bigint) as lines_removed,
        cast(edits_accepted as bigint) as edits_accepted,
        cast(edits_rejected as bigint) as edits_rejected,
        cast(active_seconds as decimal(38, 3)) as active_seconds,
        cast(total_tokens as bigint) as total_tokens,
        cast(cost_usd as decimal(38, 9)) as cost_usd
    from published
)

select * from final
