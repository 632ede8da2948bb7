{#-
    Claude Code's outcome metrics, one row per data point. A series is the metric name + the
    resource attributes + the data point's attributes; a collector retry repeats a data point
    exactly, and is kept once.
-#}
with

source as (
    select * from {{ source('claude_code', 'claude_code_otel_metric_points') }}
),

renamed as (
    select
        md5(concat_ws('|', metric, resource_attributes, point_attributes)) as series_key,
        metric as metric_name,
        aggregation_temporality = 2 as is_cumulative,
        started_at as series_started_at,
        occurred_at,
        value,
        lower(trim(user_email)) as user_email,
        lower(type) as lines_type,
        lower(decision) as decision,
        _loaded_at as loaded_at,
        _batch_id as batch_id,
        _line as source_line
    from source
),

deduplicated as (
    select *
    from renamed
    qualify row_number() over (
        partition by series_key, series_started_at, occurred_at, value
        order by loaded_at, batch_id, source_line
    ) = 1
)

select * from deduplicated
