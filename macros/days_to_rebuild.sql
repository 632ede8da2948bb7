{#
    days_to_rebuild: for an incremental model by usage day, a SQL predicate on `day_expression`
    (a date) selecting the days to rebuild: the days queued in raw.rebuild_days (by landing,
    erasure, or a change of reference data: see docs/operations.md). With
    `through_month_end`, also every later day of a queued day's month: for the marts of the
    published groups, which are counted over the month so far. Outside incremental runs: true.
#}
{% macro days_to_rebuild(day_expression, through_month_end=false) -%}
    {%- if not is_incremental() -%}
        true
    {%- elif through_month_end -%}
        exists (
            -- renamed, so that `day_expression` (often `usage_date`) names the outer row's column
            select 1
            from (select usage_date as queued_day from {{ source('landing', 'rebuild_days') }}) as queued
            where
                queued.queued_day <= {{ day_expression }}
                and date_trunc('month', queued.queued_day) = date_trunc('month', {{ day_expression }})
        )
    {%- else -%}
        {{ day_expression }} in (select queued.usage_date from {{ source('landing', 'rebuild_days') }} as queued)
    {%- endif -%}
{%- endmacro %}
