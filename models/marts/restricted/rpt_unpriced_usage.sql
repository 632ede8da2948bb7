with

events as (
    select * from {{ ref('fct_usage_events') }}
),

unpriced as (
    select
        provider,
        model,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        sum(requests) as requests,
        sum(total_tokens) as total_tokens
    from events
    where price_status = 'unpriced'
    group by provider, model
)

select * from unpriced
