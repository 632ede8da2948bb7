{#
    column_meta: the meta dict of a column of the current model (from `config.meta` or
    `meta` in its YAML), or {} when the column is not documented.
#}
{% macro column_meta(column_name, node=none) -%}
    {%- set node = node if node is not none else model -%}
    {%- set column = node.columns.get(column_name) if node.columns is defined else none -%}
    {%- if column is none -%}
        {{ return({}) }}
    {%- endif -%}
    {%- set meta = {} -%}
    {%- do meta.update(column.get('meta') or {}) -%}
    {%- do meta.update((column.get('config') or {}).get('meta') or {}) -%}
    {{ return(meta) }}
{%- endmacro %}
