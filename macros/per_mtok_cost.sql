{#
    per_mtok_cost: the USD cost of a request's tokens, given (token column, USD-per-million-tokens
    rate column) pairs, as decimal(38, 15) in exact decimal arithmetic (no float division). The
    products are summed at the rates' own scale and divided by a million once. Token counts are
    widened to decimal(38, 0), so a product is 128-bit: a provider report bucket of billions of
    tokens (landing allows up to 13 digits) times any rate never overflows.
#}
{% macro per_mtok_cost(token_rate_pairs) -%}
    {%- set products = [] -%}
    {%- for tokens, usd_per_mtok in token_rate_pairs -%}
        {%- do products.append("cast(" ~ tokens ~ " as decimal(38, 0)) * " ~ usd_per_mtok) -%}
    {%- endfor -%}
    cast(({{ products | join(' + ') }}) * 0.000001 as decimal(38, 15))
{%- endmacro %}
