{#- What the tokens bought per month × team × cost centre × tool, as ratios (NULL where the denominator is 0). -#}
with

outcomes_daily as (
    select * from {{ ref('fct_outcomes_daily') }}
),

monthly as (
    select
        cast(date_trunc('month', usage_date) as date) as usage_month,
        team_id,
        cost_center,
        tool,
        sum(cost_usd) as cost_usd,
        sum(total_tokens) as total_tokens,
        sum(commits) as commits,
        sum(pull_requests) as pull_requests,
        sum(lines_added) as lines_added,
        sum(edits_accepted) as edits_accepted,
        sum(edits_rejected) as edits_rejected
    from outcomes_daily
    group by all
),

final as (
    select
        usage_month,
        team_id,
        cost_center,
        tool,
        cast(cost_usd as decimal(38, 9)) as cost_usd,
        cast(total_tokens as bigint) as total_tokens,
        cast(commits as bigint) as commits,
        cast(pull_requests as bigint) as pull_requests,
        cast(lines_added as bigint) as lines_added,
        cast(cost_usd / nullif(commits, 0) as decimal(38, 9)) as cost_per_commit_usd,
        cast(cost_usd / nullif(pull_requests, 0) as decimal(38, 9)) as cost_per_pull_request_usd,
        cast(total_tokens / nullif(lines_added, 0) as double) as tokens_per_line_added,
        cast(edits_accepted / nullif(edits_accepted + edits_rejected, 0) as double) as edit_acceptance_rate
    from monthly
)

select * from final
