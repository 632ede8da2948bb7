{#-
    Each Claude Code outcome data point as the increment it adds (counts; seconds for active
    time). Delta points add their value. Cumulative points are differenced within their series
    and run: a new series_started_at (a restart) starts a run whose first value counts in full.
    Points are ordered by time, whatever order their lines arrived in.
-#}
with

points as (
    select * from {{ ref('stg_claude_code__metric_points') }}
),

differenced as (
    select
        user_email,
        cast(occurred_at as date) as usage_date,
        metric_name,
        lines_type,
        decision,
        case
            when not is_cumulative then value
            else value - coalesce(lag(value) over (
                partition by series_key, series_started_at order by occurred_at
            ), 0)
        end as increment
    from points
)

select * from differenced
