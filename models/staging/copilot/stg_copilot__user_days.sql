{#-
    GitHub Copilot's users-1-day report, one row per login and day (a day landed again keeps
    its latest landed version). Tokens are the CLI's prompt + output tokens.
-#}
with

source as (
    select * from {{ source('copilot', 'copilot_user_days') }}
),

renamed as (
    select
        day as usage_date,
        lower(trim(user_login)) as github_login,
        coalesce(session_count, 0) as sessions,
        coalesce(loc_added_sum, 0) as lines_added,
        coalesce(loc_deleted_sum, 0) as lines_removed,
        coalesce(code_acceptance_activity_count, 0) as edits_accepted,
        greatest(
            coalesce(code_generation_activity_count, 0) - coalesce(code_acceptance_activity_count, 0), 0
        ) as edits_rejected,
        coalesce(prompt_tokens_sum, 0) + coalesce(output_tokens_sum, 0) as total_tokens,
        coalesce(ai_credits_used, 0) as ai_credits_used,
        _loaded_at as loaded_at,
        _line as source_line
    from source
),

latest as (
    select *
    from renamed
    qualify row_number() over (
        partition by usage_date, github_login order by loaded_at desc, source_line desc
    ) = 1
)

select * exclude (loaded_at, source_line) from latest
