{#
    delete_queued_days: an incremental model's pre_hook. In an incremental run, deletes from the
    model the days it rebuilds (days_to_rebuild), so a queued day rebuilt to no rows (all of it
    withheld under k, its records gone) keeps none of its old ones: delete+insert alone deletes
    only the days its new rows hold. Nothing otherwise (a first build, a full refresh).
#}
{% macro delete_queued_days(day_expression, through_month_end=false) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where {{ days_to_rebuild(day_expression, through_month_end=through_month_end) }}
    {%- endif -%}
{%- endmacro %}
