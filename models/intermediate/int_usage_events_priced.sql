{#-
    Each event priced at the list price in force when it was made (effective-dated catalog,
    after the providers' documented rules: int_list_prices_ruled), each token type at its own rate, the whole request at long-context rates when its total
    input exceeds the model's threshold, at its service tier's rates; then negotiated overrides.
    A fast-mode request (speed 'fast') at those rates times its model's fast_mode_multipliers;
    a request whose inference ran in a geo that costs more (US-only: inference_geo 'us') times
    its model's inference_geo_multipliers as well. Its server-side web searches at their price
    per search in force (tool_prices), on top of its tokens in both costs. A model the catalog
    does not know, a fast or geo-bound request of a model without its multiplier, output
    tokens of a model priced for input alone (an embedding model), or web searches without a
    price, is 'unpriced' with NULL costs, never 0. Audio tokens (a part of the input or output
    tokens) at the model's own audio prices where it has them, else as text tokens. A model
    priced by the time of day (DeepSeek's peak hours) at the price of the UTC window its
    request was made in.
-#}
{%- set rate_columns = [] -%}
{%- for prefix in ['', 'long_context_'] -%}
    {%- for kind in ['input', 'output', 'cache_read', 'cache_write_5m', 'cache_write_1h'] -%}
        {%- do rate_columns.append(prefix ~ kind ~ '_usd_per_mtok') -%}
    {%- endfor -%}
{%- endfor -%}
{%- do rate_columns.extend(['input_audio_usd_per_mtok', 'output_audio_usd_per_mtok']) -%}
with

events as (
    select * from {{ ref('int_usage_events_attributed') }}
),

matched_models as (
    select * from {{ ref('int_models_matched') }}
),

list_prices as (
    select * from {{ ref('int_list_prices_ruled') }}
),

overrides as (
    select * from {{ ref('price_overrides') }}
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

service_tiers as (
    select distinct service_tier from list_prices
),

-- the list prices at every mode a request may run in: at standard speed wherever inference
-- ran, then for each mode with prices of its own (fast mode, US-only inference) the prices so
-- far times its multiple, for the models and periods its seed lists (fast and US-only: both
-- multiples), so an event finds its rates in one join
prices_standard as (
    select
        provider,
        model_id,
        service_tier,
        valid_from,
        valid_to,
        utc_time_from,
        utc_time_to,
        long_context_threshold_tokens,
        'standard' as speed,
        'global' as inference_geo,
        cast(1 as decimal(9, 4)) as mode_multiplier,
    {% for column in rate_columns -%}
        {{ column }}{{ "," if not loop.last }}
    {% endfor %}
    from list_prices
),
{%- set modes = [
    ('speed', "'fast'", 'fast_mode_multipliers'),
    ('inference_geo', 'multipliers.inference_geo', 'inference_geo_multipliers'),
] %}
{%- set previous = namespace(prices='prices_standard') %}
{% for mode, value, multipliers in modes %}
    prices_by_{{ mode }} as (
        select * from {{ previous.prices }}
        union all
        select
            -- in the catalog's type: a wider DECIMAL made every cost of the model twice as slow
            prices.* replace (
                greatest(prices.valid_from, multipliers.valid_from) as valid_from,
                least(prices.valid_to, multipliers.valid_to) as valid_to,
                {{ value }} as {{ mode }},
                cast(prices.mode_multiplier * multipliers.multiplier as decimal(9, 4)) as mode_multiplier,
                {% for column in rate_columns -%}
                    cast(prices.{{ column }} * multipliers.multiplier as decimal(18, 9)) as {{ column }}
                    {{- "," if not loop.last }}
                {% endfor %}
            )
        from {{ previous.prices }} as prices
        inner join {{ multipliers }} as multipliers
            on
                prices.provider = multipliers.provider
                and prices.model_id = multipliers.model_id
                and prices.valid_from < multipliers.valid_to
                and prices.valid_to > multipliers.valid_from
    ),
    {%- set previous.prices = 'prices_by_' ~ mode %}
{% endfor %}

override_rates as (
    select
        overrides.provider,
        overrides.model_id,
        service_tiers.service_tier,
        overrides.valid_from,
        overrides.valid_to,
        coalesce(overrides.discount_pct, 0) as discount_pct,
        overrides.input_usd_per_mtok,
        overrides.output_usd_per_mtok,
        overrides.cache_read_usd_per_mtok,
        overrides.cache_write_5m_usd_per_mtok,
        overrides.cache_write_1h_usd_per_mtok
    from overrides
    inner join service_tiers
        on coalesce(nullif(overrides.service_tier, ''), service_tiers.service_tier) = service_tiers.service_tier
    qualify row_number() over (
        partition by overrides.provider, overrides.model_id, service_tiers.service_tier, overrides.valid_from
        order by nullif(overrides.service_tier, '') nulls last
    ) = 1
),

events_matched as (
    select
        -- audio tokens are a part of the input (uncached) or output tokens, never more
        events.* replace (
            least(coalesce(events.input_audio_tokens, 0), events.input_tokens) as input_audio_tokens,
            least(coalesce(events.output_audio_tokens, 0), events.output_tokens) as output_audio_tokens
        ),
        matched_models.model_id,
        matched_models.catalog_provider,
        events.input_tokens
        + events.cache_read_tokens
        + events.cache_write_5m_tokens
        + events.cache_write_1h_tokens as total_input_tokens
    from events
    left join matched_models
        on
            events.provider = matched_models.provider
            and events.model = matched_models.model
),

list_rates as (
    select
        events_matched.*,
        prices.valid_from is not null as has_list_price,
        prices.mode_multiplier,
        coalesce(events_matched.total_input_tokens > prices.long_context_threshold_tokens, false)
            as is_long_context,
        prices.input_usd_per_mtok,
        -- a model priced for input alone (an embedding model) has no output price: matched
        -- only by requests without output tokens (below), it costs them nothing
        coalesce(prices.output_usd_per_mtok, 0) as output_usd_per_mtok,
        prices.cache_read_usd_per_mtok,
        prices.cache_write_5m_usd_per_mtok,
        prices.cache_write_1h_usd_per_mtok,
        prices.long_context_input_usd_per_mtok,
        prices.long_context_output_usd_per_mtok,
        prices.long_context_cache_read_usd_per_mtok,
        prices.long_context_cache_write_5m_usd_per_mtok,
        prices.long_context_cache_write_1h_usd_per_mtok,
        -- a model's own audio prices; NULL where audio costs what text does
        prices.input_audio_usd_per_mtok,
        prices.output_audio_usd_per_mtok,
        -- a request's searches at the price per search in force; NULL (unpriced) without one
        case
            when events_matched.web_search_requests > 0
                then events_matched.web_search_requests * web_search_prices.usd_per_use
            else 0
        end as web_search_cost_usd
    from events_matched
    left join web_search_prices
        on
            events_matched.catalog_provider = web_search_prices.provider
            and events_matched.occurred_at >= web_search_prices.valid_from
            and events_matched.occurred_at < web_search_prices.valid_to
    left join prices_by_inference_geo as prices
        on
            events_matched.catalog_provider = prices.provider
            and events_matched.model_id = prices.model_id
            and events_matched.service_tier = prices.service_tier
            and coalesce(events_matched.speed, 'standard') = prices.speed
            -- 'global', 'not_available' (a model without the choice) or not said: where it ran
            -- costs nothing more; another geo needs its multiplier
            and case
                when coalesce(events_matched.inference_geo, 'global') in ('global', 'not_available') then 'global'
                else events_matched.inference_geo
            end = prices.inference_geo
            and events_matched.occurred_at >= prices.valid_from
            and events_matched.occurred_at < prices.valid_to
            -- the price of the window of the day the request was made in (UTC, as occurred_at
            -- is; NULL ends: from and to midnight, both NULL all day)
            and (prices.utc_time_from is null or cast(events_matched.occurred_at as time) >= prices.utc_time_from)
            and (prices.utc_time_to is null or cast(events_matched.occurred_at as time) < prices.utc_time_to)
            -- output tokens of a model without an output price: unpriced, never free
            and (prices.output_usd_per_mtok is not null or events_matched.output_tokens = 0)
),

tier_rates as (
    select
        * exclude (
            input_usd_per_mtok, output_usd_per_mtok, cache_read_usd_per_mtok,
            cache_write_5m_usd_per_mtok, cache_write_1h_usd_per_mtok,
            long_context_input_usd_per_mtok, long_context_output_usd_per_mtok,
            long_context_cache_read_usd_per_mtok, long_context_cache_write_5m_usd_per_mtok,
            long_context_cache_write_1h_usd_per_mtok
        ),
        input_audio_usd_per_mtok is not null as has_input_audio_price,
        output_audio_usd_per_mtok is not null as has_output_audio_price,
        case when is_long_context then long_context_input_usd_per_mtok else input_usd_per_mtok end
            as list_input_rate,
        case when is_long_context then long_context_output_usd_per_mtok else output_usd_per_mtok end
            as list_output_rate,
        case when is_long_context then long_context_cache_read_usd_per_mtok else cache_read_usd_per_mtok end
            as list_cache_read_rate,
        case
            when is_long_context then long_context_cache_write_5m_usd_per_mtok else cache_write_5m_usd_per_mtok
        end as list_cache_write_5m_rate,
        case
            when is_long_context then long_context_cache_write_1h_usd_per_mtok else cache_write_1h_usd_per_mtok
        end as list_cache_write_1h_rate,
        coalesce(
            input_audio_usd_per_mtok,
            case when is_long_context then long_context_input_usd_per_mtok else input_usd_per_mtok end
        ) as list_input_audio_rate,
        coalesce(
            output_audio_usd_per_mtok,
            case when is_long_context then long_context_output_usd_per_mtok else output_usd_per_mtok end
        ) as list_output_audio_rate
    from list_rates
),

effective_rates as (
    select
        tier_rates.*,
        override_rates.model_id is not null as has_override,
        coalesce(
            cast(override_rates.input_usd_per_mtok * tier_rates.mode_multiplier as decimal(18, 9)),
            tier_rates.list_input_rate * (1 - coalesce(override_rates.discount_pct, 0) * 0.01)
        ) as input_rate,
        coalesce(
            cast(override_rates.output_usd_per_mtok * tier_rates.mode_multiplier as decimal(18, 9)),
            tier_rates.list_output_rate * (1 - coalesce(override_rates.discount_pct, 0) * 0.01)
        ) as output_rate,
        coalesce(
            cast(override_rates.cache_read_usd_per_mtok * tier_rates.mode_multiplier as decimal(18, 9)),
            tier_rates.list_cache_read_rate * (1 - coalesce(override_rates.discount_pct, 0) * 0.01)
        ) as cache_read_rate,
        coalesce(
            cast(override_rates.cache_write_5m_usd_per_mtok * tier_rates.mode_multiplier as decimal(18, 9)),
            tier_rates.list_cache_write_5m_rate * (1 - coalesce(override_rates.discount_pct, 0) * 0.01)
        ) as cache_write_5m_rate,
        coalesce(
            cast(override_rates.cache_write_1h_usd_per_mtok * tier_rates.mode_multiplier as decimal(18, 9)),
            tier_rates.list_cache_write_1h_rate * (1 - coalesce(override_rates.discount_pct, 0) * 0.01)
        ) as cache_write_1h_rate,
        -- audio at a model's own audio price takes an override's discount; audio without one
        -- costs what text does, override included (below)
        tier_rates.list_input_audio_rate * (1 - coalesce(override_rates.discount_pct, 0) * 0.01)
            as own_input_audio_rate,
        tier_rates.list_output_audio_rate * (1 - coalesce(override_rates.discount_pct, 0) * 0.01)
            as own_output_audio_rate
    from tier_rates
    left join override_rates
        on
            tier_rates.catalog_provider = override_rates.provider
            and tier_rates.model_id = override_rates.model_id
            and tier_rates.service_tier = override_rates.service_tier
            and tier_rates.occurred_at >= override_rates.valid_from
            and tier_rates.occurred_at < override_rates.valid_to
),

costed as (
    select
        *,
        case when has_list_price and web_search_cost_usd is not null then 'priced' else 'unpriced' end
            as price_status,
        {{ per_mtok_cost([
            ('input_tokens - input_audio_tokens', 'list_input_rate'),
            ('input_audio_tokens', 'list_input_audio_rate'),
            ('output_tokens - output_audio_tokens', 'list_output_rate'),
            ('output_audio_tokens', 'list_output_audio_rate'),
            ('cache_read_tokens', 'list_cache_read_rate'),
            ('cache_write_5m_tokens', 'list_cache_write_5m_rate'),
            ('cache_write_1h_tokens', 'list_cache_write_1h_rate'),
        ]) }} + web_search_cost_usd as list_cost_usd
    from effective_rates
),

final as (
    select
        -- an unpriced request has no costs, its searches' neither
        * replace (case when price_status = 'priced' then web_search_cost_usd end as web_search_cost_usd),
        -- without an override the company pays the list price (and is spared a second costing);
        -- overrides are for tokens: searches stay at their price
        case
            when has_override then {{ per_mtok_cost([
                ('input_tokens - input_audio_tokens', 'input_rate'),
                ('input_audio_tokens', 'case when has_input_audio_price then own_input_audio_rate else input_rate end'),
                ('output_tokens - output_audio_tokens', 'output_rate'),
                ('output_audio_tokens', 'case when has_output_audio_price then own_output_audio_rate else output_rate end'),
                ('cache_read_tokens', 'cache_read_rate'),
                ('cache_write_5m_tokens', 'cache_write_5m_rate'),
                ('cache_write_1h_tokens', 'cache_write_1h_rate'),
            ]) }} + web_search_cost_usd
            else list_cost_usd
        end as cost_usd
    from costed
)

select * from final
