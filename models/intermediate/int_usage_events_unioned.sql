{#- Every per-request source in one grain; each staging model already speaks canonical semantics. -#}
with

canonical as (
    select * from {{ ref('stg_canonical__usage_events') }}
),

unioned as (
    select
        'canonical' as source_format,
        provider,
        request_id,
        occurred_at,
        model,
        user_email,
        application,
        1 as requests,
        input_tokens,
        output_tokens,
        cache_read_tokens,
        cache_write_5m_tokens,
        cache_write_1h_tokens,
        service_tier,
        reported_cost_usd
    from canonical
),

final as (
    select
        md5(source_format || '|' || provider || '|' || request_id) as event_id,
        *
    from unioned
)

select * from final
