{#
    get_where_subquery: dbt's own macro for a data test's `where` config, overridden as dbt's
    documentation shows for giving it a macro. `where: "days_to_rebuild(COLUMN)"` tests only the
    days this build rebuilds, through days_to_rebuild: the queue's first and last days as
    literal bounds reach the raw scans (the queue alone, as a subquery, does not). An hourly
    build then tests its day through the views over every usage event, not the whole history.
    Any other `where` is dbt's.
#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') or '' -%}
    {%- set marker = 'days_to_rebuild(' -%}
    {%- if not where.startswith(marker) -%}
        {%- do return(dbt.default__get_where_subquery(relation)) -%}
    {%- endif -%}
    {%- set day_expression = where[marker | length:-1] | trim -%}
    {%- set filtered -%}
        (select * from {{ relation }} where {{ days_to_rebuild(day_expression, queued_only=true) }}) dbt_subquery
    {%- endset -%}
    {%- do return(filtered) -%}
{%- endmacro %}
