with

monthly_users as (
    select * from {{ ref('fct_user_usage_monthly') }}
),

ranked as (
    select
        usage_month,
        row_number() over (
            partition by usage_month order by total_tokens desc, cost_usd desc nulls last, user_key asc
        ) as rank,
        user_key,
        total_tokens,
        cost_usd,
        requests,
        is_capped,
        total_tokens / sum(total_tokens) over (partition by usage_month) as share_of_tokens,
        1 - percent_rank() over (partition by usage_month order by total_tokens) as top_fraction
    from monthly_users
),

final as (
    select
        usage_month,
        cast(rank as bigint) as rank,
        user_key,
        total_tokens,
        cost_usd,
        requests,
        cast(share_of_tokens as double) as share_of_tokens,
        cast(round(100 * (1 - top_fraction), 2) as double) as percentile,
        is_capped
    from ranked
)

select * from final
