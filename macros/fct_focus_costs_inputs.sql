{#
    fct_focus_costs_inputs: the per-day input digests of fct_focus_costs (see
    day_input_digests): its rows for a day are a function of fct_usage_daily's rows that day.
#}
{% macro fct_focus_costs_inputs() -%}
    {{ return(day_input_digests(by_day=(ref('fct_usage_daily'), 'usage_date'))) }}
{%- endmacro %}
