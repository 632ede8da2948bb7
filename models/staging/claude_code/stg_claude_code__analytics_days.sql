{#-
    The Claude Code Analytics Admin API report, one row per day × actor (rows that differ only in
    terminal_type are summed). A user_actor is a person (by email); an api_actor is an API key,
    no person. Edits accepted / rejected sum the report's tool_actions over its tools (landing
    quarantines a count of another shape; `try_cast` keeps one landed before that rule from
    failing the build). A day landed again keeps its latest landed version.
-#}
with

source as (
    select * from {{ source('claude_code', 'claude_code_analytics_days') }}
),

renamed as (
    select
        date as usage_date,
        actor_type,
        case when actor_type = 'user_actor' then lower(trim(email_address)) end as user_email,
        case when actor_type = 'api_actor' then api_key_name end as api_key_name,
        coalesce(terminal_type, '') as terminal_type,
        coalesce(num_sessions, 0) as sessions,
        coalesce(lines_added, 0) as lines_added,
        coalesce(lines_removed, 0) as lines_removed,
        coalesce(commits, 0) as commits,
        coalesce(pull_requests, 0) as pull_requests,
        coalesce(list_sum(list_transform(
            json_keys(tool_actions), lambda tool: try_cast(tool_actions -> tool ->> 'accepted' as bigint)
        )), 0) as edits_accepted,
        coalesce(list_sum(list_transform(
            json_keys(tool_actions), lambda tool: try_cast(tool_actions -> tool ->> 'rejected' as bigint)
        )), 0) as edits_rejected,
        _loaded_at as loaded_at,
        _line as source_line
    from source
),

latest as (
    select *
    from renamed
    qualify row_number() over (
        partition by usage_date, actor_type, user_email, api_key_name, terminal_type
        order by loaded_at desc, source_line desc
    ) = 1
),

final as (
    select
        usage_date,
        actor_type,
        user_email,
        api_key_name,
        sum(sessions) as sessions,
        sum(lines_added) as lines_added,
        sum(lines_removed) as lines_removed,
        sum(commits) as commits,
        sum(pull_requests) as pull_requests,
        sum(edits_accepted) as edits_accepted,
        sum(edits_rejected) as edits_rejected
    from latest
    group by all
)

select * from final
