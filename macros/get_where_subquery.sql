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
    {%- if not where.startswith('days_to_rebuild(') -%}
        {%- do return(dbt.default__get_where_subquery(relation)) -%}
    {%- endif -%}
    {%- set filtered -%}
        (select * from {{ relation }} where {{ days_to_rebuild(where[16:-1] | trim, queued_only=true) }}) dbt_subquery
    {%- endset -%}
    {%- do return(filtered) -%}
{%- endmacro %}
