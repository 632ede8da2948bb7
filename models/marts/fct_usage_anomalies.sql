{#-
    The anomalies published: a person's once their day has been over for
    var('person_rows_lag_days') days, as of var('as_of_date') (by default the day the build
    runs); a person's spike published while the day runs would show, between two publishes,
    which user_key spiked while the rows of which team changed (docs/privacy.md). Those of
    teams, cost centres, models and the organisation as soon as their day shows them.
-#}
{%- set as_of_date = var('as_of_date') or run_started_at.strftime('%Y-%m-%d') %}
with

anomalies as (
    select * from {{ ref('fct_usage_anomalies_all') }}
),

final as (
    select *
    from anomalies
    where scope != 'person' or usage_date < cast('{{ as_of_date }}' as date) - {{ var('person_rows_lag_days') }}
)

select * from final
