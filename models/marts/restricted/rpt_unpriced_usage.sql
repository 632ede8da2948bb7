{#-
    The unpriced requests by reported model and by why they are unpriced: the first price
    condition of int_usage_events_priced (model, period, tier, speed, geo, output, searches)
    that the reference data does not meet, checked here on the unpriced requests alone (few
    rows) so that pricing itself needs no second join.
-#}
with

events as (
    select * from {{ ref('fct_usage_events') }}
    where price_status = 'unpriced'
),

list_prices as (
    select * from {{ ref('int_list_prices_ruled') }}
),

fast_mode_multipliers as (
    select * from {{ ref('fast_mode_multipliers') }}
),

inference_geo_multipliers as (
    select * from {{ ref('inference_geo_multipliers') }}
),

web_search_prices as (
    select * from {{ ref('tool_prices') }}
    where tool = 'web_search'
),

-- where the request ran, as pricing reads it: 'global' costs nothing more
requested as (
    select
        *,
        coalesce(speed, 'standard') as requested_speed,
        case
            when coalesce(inference_geo, 'global') in ('global', 'not_available') then 'global'
            else inference_geo
        end as requested_geo
    from events
),

-- the list prices of each request's model on its day: in force at all, at its tier, with
-- an output price at its tier
list_prices_in_force as (
    select
        requested.event_id,
        bool_or(list_prices.model_id is not null) as has_price_in_force,
        coalesce(bool_or(list_prices.service_tier = requested.service_tier), false) as has_tier_price,
        coalesce(
            bool_or(list_prices.service_tier = requested.service_tier and list_prices.output_usd_per_mtok is not null),
            false
        ) as has_output_price
    from requested
    left join list_prices
        on
            requested.catalog_provider = list_prices.provider
            and requested.model_id = list_prices.model_id
            and requested.occurred_at >= list_prices.valid_from
            and requested.occurred_at < list_prices.valid_to
    group by requested.event_id
),

-- each price condition, met or not, by what the reference data holds for the request
conditions as (
    select
        requested.*,
        list_prices_in_force.has_price_in_force,
        list_prices_in_force.has_tier_price,
        requested.output_tokens = 0 or list_prices_in_force.has_output_price as has_output_price,
        requested.requested_speed = 'standard' or exists (
            select 1 from fast_mode_multipliers
            where
                requested.requested_speed = 'fast'
                and fast_mode_multipliers.provider = requested.catalog_provider
                and fast_mode_multipliers.model_id = requested.model_id
                and requested.occurred_at >= fast_mode_multipliers.valid_from
                and requested.occurred_at < fast_mode_multipliers.valid_to
        ) as has_speed_price,
        requested.requested_geo = 'global' or exists (
            select 1 from inference_geo_multipliers
            where
                inference_geo_multipliers.provider = requested.catalog_provider
                and inference_geo_multipliers.model_id = requested.model_id
                and inference_geo_multipliers.inference_geo = requested.requested_geo
                and requested.occurred_at >= inference_geo_multipliers.valid_from
                and requested.occurred_at < inference_geo_multipliers.valid_to
        ) as has_geo_price,
        requested.web_search_requests = 0 or exists (
            select 1 from web_search_prices
            where
                web_search_prices.provider = requested.catalog_provider
                and requested.occurred_at >= web_search_prices.valid_from
                and requested.occurred_at < web_search_prices.valid_to
        ) as has_web_search_price
    from requested
    inner join list_prices_in_force on requested.event_id = list_prices_in_force.event_id
),

reasoned as (
    select
        *,
        case
            when model_id is null then 'model_not_in_catalog'
            when not has_price_in_force then 'no_price_on_the_day'
            when not has_tier_price then 'no_price_for_service_tier'
            when not has_speed_price then 'no_fast_mode_multiplier'
            when not has_geo_price then 'no_inference_geo_multiplier'
            when not has_output_price then 'output_of_input_only_model'
            when not has_web_search_price then 'no_web_search_price'
            else 'unexplained'
        end as unpriced_reason
    from conditions
),

final as (
    select
        provider,
        model,
        unpriced_reason,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        sum(requests) as requests,
        sum(total_tokens) as total_tokens
    from reasoned
    group by provider, model, unpriced_reason
)

select * from final
