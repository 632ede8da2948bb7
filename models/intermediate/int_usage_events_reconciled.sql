{#-
    Per-request events plus, from provider reports, what those events do not explain: each
    report bucket contributes its proportional share of the remainder of its coverage key
    (provider × day × model × tier), attributed to the bucket's key owner. So the total equals
    the report where a report exists, per-request events attribute it to people, and nothing
    is counted twice.
-#}
{%- set token_columns = ['requests', 'input_tokens', 'output_tokens', 'cache_read_tokens',
                         'cache_write_5m_tokens', 'cache_write_1h_tokens', 'web_search_requests',
                         'input_audio_tokens', 'output_audio_tokens'] -%}
{%- set coverage_key = 'provider, usage_date, match_key, service_tier, speed_key' -%}
with

events as (
    select * from {{ ref('int_usage_events_completed') }}
),

buckets as (
    select * from {{ ref('int_usage_buckets_owned') }}
),

coverage as (
    select * from {{ ref('int_report_coverage') }}
),

matched_models as (
    select * from {{ ref('int_models_matched') }}
),

buckets_covered as (
    select
        buckets.*,
        coalesce(matched_models.model_id, lower(buckets.model)) as match_key,
        coverage.speed_key,
    {% for column in token_columns -%}
        coverage.report_{{ column }},
        coverage.remaining_{{ column }}{{ "," if not loop.last }}
    {% endfor %}
    from buckets
    left join matched_models
        on buckets.provider = matched_models.provider and buckets.model = matched_models.model
    inner join coverage
        on
            buckets.provider = coverage.provider
            and buckets.usage_date = coverage.usage_date
            and coalesce(matched_models.model_id, lower(buckets.model)) = coverage.match_key
            and buckets.service_tier = coverage.service_tier
            and coalesce(buckets.speed, 'any') = coverage.speed_key
),

allocated as (
    select
        bucket_id,
        source_format,
        provider,
        bucket_start,
        model,
        service_tier,
        -- a report not grouped by speed: its remainder is priced at standard rates
        coalesce(speed, 'standard') as speed,
        inference_geo,
        owner_email,
        owner_team_id,
        owner_cost_center,
        loaded_at,
    {% for column in token_columns -%}
        cast({{ allocate_remainder(column, coverage_key) }} as bigint) as {{ column }}{{ "," if not loop.last }}
    {% endfor %}
    from buckets_covered
),

remainder_events as (
    select
        {{ event_uuid("'bucket|' || bucket_id") }} as event_id,
        source_format,
        provider,
        'bucket:' || bucket_id as request_id,
        bucket_start as occurred_at,
        model,
        owner_email as user_email,
        'api' as application,
        requests,
        input_tokens,
        output_tokens,
        cache_read_tokens,
        cache_write_5m_tokens,
        cache_write_1h_tokens,
        web_search_requests,
        input_audio_tokens,
        output_audio_tokens,
        service_tier,
        speed,
        inference_geo,
        cast(null as decimal(18, 9)) as reported_cost_usd,
        owner_team_id as source_team_id,
        owner_cost_center as source_cost_center,
        loaded_at
    from allocated
    where
        requests + input_tokens + output_tokens + cache_read_tokens + cache_write_5m_tokens + cache_write_1h_tokens
        + web_search_requests > 0
),

final as (
    select * from events
    union all
    select * from remainder_events
)

select * from final
