with

source as (
    select * from {{ source('canonical', 'canonical_events') }}
),

renamed as (
    select
        lower(trim(provider)) as provider,
        request_id,
        occurred_at,
        model,
        lower(trim(user_email)) as user_email,
        coalesce(application, 'unknown') as application,
        session_id,
        input_tokens,
        output_tokens,
        coalesce(cache_read_tokens, 0) as cache_read_tokens,
        coalesce(cache_write_5m_tokens, 0) as cache_write_5m_tokens,
        coalesce(cache_write_1h_tokens, 0) as cache_write_1h_tokens,
        coalesce(service_tier, 'standard') as service_tier,
        reported_cost_usd,
        tags,
        _line as source_line,
        _batch_id as batch_id,
        _loaded_at as loaded_at
    from source
),

final as (
    select * from renamed
)

select * from final
