{#
    day_ranges: a SQL predicate on `day_expression` selecting the given days (false when there
    are none), as one range per day rather than cast(... as date) in (...): DuckDB prunes row
    groups by range. Used by incremental_days and changed_input_days.
#}
{% macro day_ranges(day_expression, days) -%}
    {%- if days | length == 0 -%}
        false
    {%- else -%}
        {%- set ranges = [] -%}
        {%- for day in days | sort -%}
            {%- do ranges.append(
                "(" ~ day_expression ~ " >= date '" ~ day ~ "' and " ~ day_expression
                ~ " < date '" ~ day ~ "' + 1)"
            ) -%}
        {%- endfor -%}
        ({{ ranges | join(' or ') }})
    {%- endif -%}
{%- endmacro %}
