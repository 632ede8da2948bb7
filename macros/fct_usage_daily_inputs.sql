{#
    fct_usage_daily_inputs: the per-day input digests of fct_usage_daily (see day_input_digests):
    that day's person facts, its published groups (which team and cost centre each is
    published as), the provider aliases and the published applications.
#}
{% macro fct_usage_daily_inputs() -%}
    {{ return(day_input_digests(
        by_day=(ref('fct_person_usage_daily'), 'usage_date'),
        groups=(
            ref('dim_org_groups_daily'), 'usage_date',
            ['team_id', 'cost_center', 'published_team_id', 'published_cost_center', 'is_published'],
        ),
        constants=[ref('provider_aliases')],
        settings=[var('published_applications')],
    )) }}
{%- endmacro %}
