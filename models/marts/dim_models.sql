with

catalog as (
    select * from {{ ref('price_catalog') }}
),

final as (
    select
        model_id,
        provider,
        model_name,
        service_tier,
        valid_from,
        valid_to,
        input_usd_per_mtok,
        output_usd_per_mtok,
        cache_read_usd_per_mtok,
        cache_write_5m_usd_per_mtok,
        cache_write_1h_usd_per_mtok,
        long_context_threshold_tokens,
        long_context_input_usd_per_mtok,
        long_context_output_usd_per_mtok,
        long_context_cache_read_usd_per_mtok,
        long_context_cache_write_5m_usd_per_mtok,
        long_context_cache_write_1h_usd_per_mtok,
        source as price_source
    from catalog
)

select * from final
