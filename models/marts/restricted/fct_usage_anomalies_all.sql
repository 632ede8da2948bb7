{#-
    Spikes against each scope's own trailing baseline, weekday-aware and robust: a day is
    compared with the same kind of day (weekday / weekend) over the preceding
    var('anomaly_baseline_days') such days, by median and interquartile range. Metrics:
    cost_usd (spend spikes), cost_per_request (sudden jumps, e.g. a day of cache misses),
    new_model_adoption (a team's first use of a model) and unpriced_requests.
    Every anomaly as soon as its day shows it, for the alerts; fct_usage_anomalies publishes
    them, a person's once their day has been over for var('person_rows_lag_days').
-#}
with

person_days as (
    select * from {{ ref('fct_person_usage_daily') }}
),

-- groups only as published (k): a figure here never adds what fct_usage_daily withholds
published_days as (
    select * from {{ ref('fct_usage_daily') }}
),

scoped as (
    select
        usage_date,
        'person' as scope,
        user_key as scope_id,
        cost_usd,
        requests
    from person_days
    where user_key is not null
    union all
    select
        usage_date,
        'team' as scope,
        team_id as scope_id,
        cost_usd,
        requests
    from published_days
    where team_id != 'other'
    union all
    select
        usage_date,
        'cost_center' as scope,
        cost_center as scope_id,
        cost_usd,
        requests
    from published_days
    where cost_center != 'other'
    union all
    select
        usage_date,
        'model' as scope,
        model_id as scope_id,
        cost_usd,
        requests
    from published_days
    where model_id != 'unpriced'
    union all
    select
        usage_date,
        'organisation' as scope,
        'organisation' as scope_id,
        cost_usd,
        requests
    from published_days
),

daily as (
    select
        usage_date,
        scope,
        scope_id,
        coalesce(sum(cost_usd), 0) as cost_usd,
        sum(requests) as requests
    from scoped
    group by all
),

bounds as (
    select max(usage_date) as last_day from person_days
),

first_seen as (
    select
        scope,
        scope_id,
        min(usage_date) as first_day
    from daily
    group by all
),

series as (
    select
        first_seen.scope,
        first_seen.scope_id,
        cast(calendar.day as date) as usage_date,
        coalesce(daily.cost_usd, 0) as cost_usd,
        coalesce(daily.requests, 0) as requests,
        case
            when daily.requests >= {{ var('anomaly_min_requests_for_cost_per_request') }}
                then daily.cost_usd / daily.requests
        end as cost_per_request,
        isodow(calendar.day) >= 6 as is_weekend
    from first_seen
    cross join bounds
    cross join
        unnest(generate_series(
            cast(first_seen.first_day as timestamp), cast(bounds.last_day as timestamp), interval 1 day
        )) as calendar (day)
    left join daily
        on
            first_seen.scope = daily.scope
            and first_seen.scope_id = daily.scope_id
            and cast(calendar.day as date) = daily.usage_date
),

-- the three quartiles of each metric as one window aggregate (a list): one pass over each
-- frame instead of three
baseline_quartiles as (
    select
        *,
        count(*) over baseline_window as baseline_days,
        quantile_cont(cost_usd, [0.25, 0.5, 0.75]) over baseline_window as cost_quartiles,
        count(cost_per_request) over baseline_window as cpr_days,
        quantile_cont(cost_per_request, [0.25, 0.5, 0.75]) over baseline_window as cpr_quartiles
    from series
    window baseline_window as (
        partition by scope, scope_id, is_weekend
        order by usage_date
        rows between {{ var('anomaly_baseline_days') }} preceding and 1 preceding
    )
),

baselines as (
    select
        * exclude (cost_quartiles, cpr_quartiles),
        cost_quartiles[1] as cost_q1,
        cost_quartiles[2] as cost_median,
        cost_quartiles[3] as cost_q3,
        cpr_quartiles[1] as cpr_q1,
        cpr_quartiles[2] as cpr_median,
        cpr_quartiles[3] as cpr_q3
    from baseline_quartiles
),

floors as (
    select
        *,
        case scope
            {% for scope in ['person', 'team', 'cost_center', 'model', 'organisation'] -%}
                when '{{ scope }}' then {{ var('anomaly_floor_usd_' ~ scope) }}
            {% endfor -%}
        end as floor_usd
    from baselines
),

spend_spikes as (
    select
        usage_date,
        scope,
        scope_id,
        'cost_usd' as metric,
        cast(null as varchar) as detail,
        cost_usd as observed,
        cost_median as expected,
        (cost_usd - cost_median)
        / greatest((cost_q3 - cost_q1) / 1.349, 0.1 * cost_median, floor_usd / 3) as score,
        cost_usd / greatest(cost_median, cost_q3, floor_usd / 3) as ratio
    from floors
    where
        baseline_days >= {{ var('anomaly_min_baseline_days') }} * (case when is_weekend then 0.4 else 1 end)
        and cost_usd >= floor_usd
),

cost_per_request_jumps as (
    select
        usage_date,
        scope,
        scope_id,
        'cost_per_request' as metric,
        cast(null as varchar) as detail,
        cost_per_request as observed,
        cpr_median as expected,
        (cost_per_request - cpr_median) / greatest((cpr_q3 - cpr_q1) / 1.349, 0.1 * cpr_median) as score,
        cost_per_request / greatest(cpr_median, cpr_q3) as ratio
    from floors
    where
        cpr_days >= {{ var('anomaly_min_baseline_days') }} * (case when is_weekend then 0.4 else 1 end)
        and cost_per_request is not null
        and cost_usd >= floor_usd
        and scope in ('person', 'team')
),

candidates as (
    select * from spend_spikes
    union all
    select * from cost_per_request_jumps
),

flagged_spikes as (
    select *
    from candidates
    where
        ratio >= {{ var('anomaly_min_ratio') }}
        and score >= {{ var('anomaly_min_score') }}
),

team_models as (
    select
        team_id,
        model_id,
        usage_date,
        sum(cost_usd) as cost_usd
    from published_days
    where model_id != 'unpriced' and team_id != 'other'
    group by all
),

team_history as (
    select
        team_id,
        min(usage_date) as first_day
    from published_days
    group by all
),

new_models as (
    select
        team_models.usage_date,
        'team' as scope,
        team_models.team_id as scope_id,
        'new_model_adoption' as metric,
        team_models.model_id as detail,
        team_models.cost_usd as observed,
        0.0 as expected,
        cast(null as double) as score,
        cast(null as double) as ratio
    from team_models
    inner join team_history on team_models.team_id = team_history.team_id
    where
        team_models.usage_date >= team_history.first_day + {{ var('anomaly_min_baseline_days') }} + 6
        and not exists (
            select 1
            from team_models as earlier
            where
                earlier.team_id = team_models.team_id
                and earlier.model_id = team_models.model_id
                and earlier.usage_date < team_models.usage_date
                and earlier.usage_date >= team_models.usage_date - 28
        )
),

unpriced as (
    select
        usage_date,
        'organisation' as scope,
        'organisation' as scope_id,
        'unpriced_requests' as metric,
        cast(null as varchar) as detail,
        cast(sum(unpriced_requests) as double) as observed,
        0.0 as expected,
        cast(null as double) as score,
        cast(null as double) as ratio
    from published_days
    group by all
    having sum(unpriced_requests) > 0
),

flags as (
    select * from flagged_spikes
    union all
    select * from new_models
    union all
    select * from unpriced
),

final as (
    select
        usage_date,
        scope,
        scope_id,
        metric,
        detail,
        -- a person's daily figures are not published: matched against a team's day they
        -- would tie the user_key to the team (the score and severity say enough)
        cast(case when scope != 'person' then observed end as double) as observed,
        cast(case when scope != 'person' then expected end as double) as expected,
        cast(coalesce(score, observed) as double) as score,
        case
            when metric = 'unpriced_requests' then 'medium'
            when metric = 'new_model_adoption' then 'low'
            when ratio >= 10 or score >= 20 then 'high'
            when ratio >= 5 or score >= 10 then 'medium'
            else 'low'
        end as severity
    from flags
)

select * from final
