{#-
    The anomalies published: a person's once their day has been over for
    var('person_rows_lag_days') days, as of var('as_of_date') (by default the day the build
    runs); a person's spike published while the day runs would show, between two publishes,
    which person spiked while the rows of which team changed (docs/privacy.md). Those of
    teams, cost centres, models and the organisation as soon as their day shows them.
    A person's spike is named by a key of that person and day, not by their user_key: a spike
    is dated, their team's day jumps with it, so the days a user_key spiked, matched against
    the days each team spiked, would tie the user_key to its team (and through it their months
    and rank on the leaderboard).
-#}
{%- set as_of_date = var('as_of_date') or run_started_at.strftime('%Y-%m-%d') %}
with

anomalies as (
    select * from {{ ref('fct_usage_anomalies_all') }}
),

published as (
    select *
    from anomalies
    where scope != 'person' or usage_date < cast('{{ as_of_date }}' as date) - {{ var('person_rows_lag_days') }}
),

final as (
    select
        usage_date,
        scope,
        case
            when scope = 'person'
                then {{ pseudonymize("scope_id || '/' || cast(usage_date as varchar)") }}
            else scope_id
        end as scope_id,
        metric,
        detail,
        observed,
        expected,
        score,
        severity
    from published
)

select * from final
