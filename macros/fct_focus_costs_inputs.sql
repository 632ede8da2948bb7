{#
    fct_focus_costs_inputs: the per-day input digests of fct_focus_costs (see
    day_input_digests): its rows for a day are a function of fct_usage_daily's rows that day
    and of the day's reconciled costs (a bill landed later changes BilledCost).
#}
{% macro fct_focus_costs_inputs() -%}
    {{ return(day_input_digests(
        by_day=(ref('fct_usage_daily'), 'usage_date'),
        groups=(
            ref('rpt_cost_reconciliation'), 'usage_date',
            ['source_format', 'provider', 'model_id', 'billed_cost_usd', 'computed_cost_usd'],
        ),
    )) }}
{%- endmacro %}
