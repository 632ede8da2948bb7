{#
    days_to_rebuild: for an incremental model by usage day, a SQL predicate on `day_expression`
    (a date, or a timestamp for the day it falls on) selecting the days to rebuild: the days
    queued in raw.rebuild_days (by landing, erasure, or a change of reference data: see
    docs/operations.md). With `through_month_end`, also every later day of a queued day's
    month: for the marts of the published groups, which are counted over the month so far.
    The days are chosen in SQL; the queue's first and last days are added as literal bounds,
    which DuckDB pushes down to the raw tables' scans (at 10 M events one day's events are
    read in 3.2 s instead of 6.5 s). Outside incremental runs: true, unless `queued_only`
    (a data test of the days a build rebuilds: see get_where_subquery).
#}
{% macro days_to_rebuild(day_expression, through_month_end=false, queued_only=false) -%}
    {%- if not (queued_only or is_incremental()) -%}
        true
    {%- else -%}
        {%- if through_month_end -%}
            exists (
                -- renamed, so that `day_expression` (often `usage_date`) names the outer row's column
                select 1
                from (select usage_date as queued_day from {{ source('landing', 'rebuild_days') }}) as queued
                where
                    queued.queued_day <= {{ day_expression }}
                    and date_trunc('month', queued.queued_day) = date_trunc('month', {{ day_expression }})
            )
        {%- else -%}
            cast({{ day_expression }} as date) in (
                select queued.usage_date as queued_day from {{ source('landing', 'rebuild_days') }} as queued
            )
        {%- endif -%}
        {%- set queue = source('landing', 'rebuild_days') -%}
        {#- in a unit test the queue is a fixture (a CTE), not a table to ask -#}
        {%- if execute and not (queue | string).startswith('__dbt__cte__') -%}
            {%- set bounds = run_query(
                "select min(usage_date), max(usage_date) from " ~ queue
            ).rows[0] -%}
            {%- if bounds[0] is not none -%}
                {%- set first = modules.datetime.date.fromisoformat((bounds[0] | string)[:10]) -%}
                {%- set last = modules.datetime.date.fromisoformat((bounds[1] | string)[:10]) -%}
                {%- if through_month_end -%}
                    {%- set end = (last.replace(day=28) + modules.datetime.timedelta(days=4)).replace(day=1) -%}
                {%- else -%}
                    {%- set end = last + modules.datetime.timedelta(days=1) -%}
                {%- endif %}
            and {{ day_expression }} >= date '{{ first }}' and {{ day_expression }} < date '{{ end }}'
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
