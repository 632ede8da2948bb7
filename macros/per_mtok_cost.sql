{#
    per_mtok_cost: the USD cost of `tokens` at `usd_per_mtok` (USD per million tokens), in exact
    decimal arithmetic (no float division).
#}
{% macro per_mtok_cost(tokens, usd_per_mtok) -%}
    cast({{ tokens }} as decimal(38, 0)) * ({{ usd_per_mtok }} * 0.000001)
{%- endmacro %}
