{#
    generate_schema_name: use a model's custom schema name as is (staging, intermediate,
    restricted, marts, reference) instead of prefixing it with the target schema.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
