with

list_prices as (
    select * from {{ ref('int_list_prices_ruled') }}
),

pricing_rules as (
    select * from {{ ref('pricing_rules') }}
),

final as (
    select
        list_prices.model_id,
        list_prices.provider,
        list_prices.model_name,
        list_prices.service_tier,
        list_prices.valid_from,
        list_prices.valid_to,
        list_prices.utc_time_from,
        list_prices.utc_time_to,
        list_prices.input_usd_per_mtok,
        list_prices.output_usd_per_mtok,
        list_prices.cache_read_usd_per_mtok,
        list_prices.cache_write_5m_usd_per_mtok,
        list_prices.cache_write_1h_usd_per_mtok,
        list_prices.input_audio_usd_per_mtok,
        list_prices.output_audio_usd_per_mtok,
        list_prices.long_context_threshold_tokens,
        list_prices.long_context_input_usd_per_mtok,
        list_prices.long_context_output_usd_per_mtok,
        list_prices.long_context_cache_read_usd_per_mtok,
        list_prices.long_context_cache_write_5m_usd_per_mtok,
        list_prices.long_context_cache_write_1h_usd_per_mtok,
        list_prices.source as price_source,
        case
            when list_prices.is_tier_price_listed then 'listed'
            when list_prices.price_rule_id is not null then 'rule'
            else 'standard'
        end as price_basis,
        list_prices.price_rule_id,
        list_prices.price_multiplier,
        pricing_rules.source_url as price_rule_source_url
    from list_prices
    left join pricing_rules on list_prices.price_rule_id = pricing_rules.rule_id
)

select * from final
