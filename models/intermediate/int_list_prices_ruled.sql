{#-
    The list price of every provider × model × service tier × period, after the providers'
    documented pricing rules: where genai-prices lists no price of its own for a tier
    (is_tier_price_listed false: its catalog row repeats the standard price), a rule in force
    (seed pricing_rules, e.g. batch at 0.5 of standard) multiplies every rate, long-context and
    audio rates included; a catalog row a rule starts or ends within is cut at the rule's
    dates. A listed tier price always stands. A catalog row is one period's window of the day
    (utc_time_from and utc_time_to NULL: all day), and is cut as a whole.
-#}
{%- set price_columns = [] -%}
{%- for prefix in ['', 'long_context_'] -%}
    {%- for kind in ['input', 'output', 'cache_read', 'cache_write_5m', 'cache_write_1h'] -%}
        {%- do price_columns.append(prefix ~ kind ~ '_usd_per_mtok') -%}
    {%- endfor -%}
{%- endfor -%}
{%- do price_columns.extend(['input_audio_usd_per_mtok', 'output_audio_usd_per_mtok']) -%}
with

catalog as (
    select * from {{ ref('price_catalog') }}
),

pricing_rules as (
    select * from {{ ref('pricing_rules') }}
),

unlisted as (
    select * from catalog
    where not is_tier_price_listed
),

rule_cuts as (
    select
        provider,
        service_tier,
        valid_from as cut_at
    from pricing_rules
    union
    select
        provider,
        service_tier,
        valid_to as cut_at
    from pricing_rules
),

piece_starts as (
    select
        provider,
        model_id,
        service_tier,
        utc_time_from,
        valid_from as row_from,
        valid_from as piece_from
    from unlisted
    union
    select
        unlisted.provider,
        unlisted.model_id,
        unlisted.service_tier,
        unlisted.utc_time_from,
        unlisted.valid_from as row_from,
        rule_cuts.cut_at as piece_from
    from unlisted
    inner join rule_cuts
        on
            unlisted.provider = rule_cuts.provider
            and unlisted.service_tier = rule_cuts.service_tier
            and unlisted.valid_from < rule_cuts.cut_at
            and unlisted.valid_to > rule_cuts.cut_at
),

unlisted_pieces as (
    select
        unlisted.*,
        piece_starts.piece_from,
        coalesce(
            lead(piece_starts.piece_from) over (
                partition by
                    unlisted.provider, unlisted.model_id, unlisted.service_tier, unlisted.valid_from,
                    unlisted.utc_time_from
                order by piece_starts.piece_from
            ),
            unlisted.valid_to
        ) as piece_to
    from unlisted
    inner join piece_starts
        on
            unlisted.provider = piece_starts.provider
            and unlisted.model_id = piece_starts.model_id
            and unlisted.service_tier = piece_starts.service_tier
            and unlisted.valid_from = piece_starts.row_from
            and unlisted.utc_time_from is not distinct from piece_starts.utc_time_from
),

ruled_pieces as (
    select
        unlisted_pieces.* exclude (valid_from, valid_to, piece_from, piece_to),  -- noqa: RF02
        unlisted_pieces.piece_from as valid_from,
        unlisted_pieces.piece_to as valid_to,
        pricing_rules.rule_id as price_rule_id,
        coalesce(pricing_rules.multiplier, 1) as price_multiplier
    from unlisted_pieces
    left join pricing_rules
        on
            unlisted_pieces.provider = pricing_rules.provider
            and unlisted_pieces.service_tier = pricing_rules.service_tier
            and unlisted_pieces.piece_from >= pricing_rules.valid_from
            and unlisted_pieces.piece_from < pricing_rules.valid_to
),

listed as (
    select
        *,
        cast(null as varchar) as price_rule_id,
        1 as price_multiplier
    from catalog
    where is_tier_price_listed
),

all_rows as (
    select * from listed
    union all by name
    select * from ruled_pieces
),

final as (
    select
        provider,
        model_id,
        model_name,
        service_tier,
        valid_from,
        valid_to,
        utc_time_from,
        utc_time_to,
        long_context_threshold_tokens,
        is_tier_price_listed,
        price_rule_id,
        cast(price_multiplier as decimal(9, 4)) as price_multiplier,
        source,
    {% for column in price_columns -%}
        cast({{ column }} * price_multiplier as decimal(18, 9)) as {{ column }}{{ "," if not loop.last }}
    {% endfor %}
    from all_rows
)

select * from final
