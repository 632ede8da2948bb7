-- The semantic layer's time spine: one row per UTC day from 2020 to 2035 (MetricFlow joins
-- metrics to it for metric_time). Published with the marts so MetricFlow answers from the
-- published file.
with

days as (
    select unnest(generate_series(date '2020-01-01', date '2035-12-31', interval 1 day)) as date_day
),

final as (
    select cast(date_day as date) as date_day
    from days
)

select * from final
