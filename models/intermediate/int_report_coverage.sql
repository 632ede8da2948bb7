{#-
    Provider reports against per-request events, per provider × day × model × service tier ×
    speed_key. A report covers its provider's first-party traffic on the days it has buckets
    for; events sent through a cloud (Bedrock, Vertex, Azure) are not in it. The report is the
    billed total; the remainder is what per-request events do not explain (never below zero).
    speed_key is the speed ('fast', 'standard') where the report is grouped by speed for that
    day × model × tier, and the events are compared speed by speed; else 'any', every speed's
    events against the report's one total.
-#}
{%- set token_columns = ['requests', 'input_tokens', 'output_tokens', 'cache_read_tokens',
                         'cache_write_5m_tokens', 'cache_write_1h_tokens', 'web_search_requests',
                         'input_audio_tokens', 'output_audio_tokens'] -%}
with

buckets as (
    select * from {{ ref('int_usage_buckets_owned') }}
),

events as (
    select * from {{ ref('int_usage_events_completed') }}
),

matched_models as (
    select * from {{ ref('int_models_matched') }}
),

report_days as (
    select distinct
        provider,
        usage_date
    from buckets
),

report_totals as (
    select
        buckets.provider,
        buckets.usage_date,
        coalesce(matched_models.model_id, lower(buckets.model)) as match_key,
        buckets.service_tier,
        coalesce(buckets.speed, 'any') as speed_key,
    {% for column in token_columns -%}
        sum(buckets.{{ column }}) as report_{{ column }}{{ "," if not loop.last }}
    {% endfor %}
    from buckets
    left join matched_models
        on buckets.provider = matched_models.provider and buckets.model = matched_models.model
    group by all
),

reported_by_speed as (
    select distinct
        provider,
        usage_date,
        match_key,
        service_tier
    from report_totals
    where speed_key <> 'any'
),

covered_events as (
    select
        events.provider,
        cast(events.occurred_at as date) as usage_date,
        coalesce(matched_models.model_id, lower(events.model)) as match_key,
        events.service_tier,
        case
            when reported_by_speed.provider is not null then coalesce(events.speed, 'standard') else 'any'
        end as speed_key,
    {% for column in token_columns -%}
        sum(events.{{ column }}) as attributed_{{ column }}{{ "," if not loop.last }}
    {% endfor %}
    from events
    inner join report_days
        on events.provider = report_days.provider and cast(events.occurred_at as date) = report_days.usage_date
    left join matched_models
        on events.provider = matched_models.provider and events.model = matched_models.model
    left join reported_by_speed
        on
            events.provider = reported_by_speed.provider
            and cast(events.occurred_at as date) = reported_by_speed.usage_date
            and coalesce(matched_models.model_id, lower(events.model)) = reported_by_speed.match_key
            and events.service_tier = reported_by_speed.service_tier
    group by all
),

final as (
    select
        coalesce(report_totals.provider, covered_events.provider) as provider,
        coalesce(report_totals.usage_date, covered_events.usage_date) as usage_date,
        coalesce(report_totals.match_key, covered_events.match_key) as match_key,
        coalesce(report_totals.service_tier, covered_events.service_tier) as service_tier,
        coalesce(report_totals.speed_key, covered_events.speed_key) as speed_key,
    {% for column in token_columns -%}
        coalesce(report_totals.report_{{ column }}, 0) as report_{{ column }},
        coalesce(covered_events.attributed_{{ column }}, 0) as attributed_{{ column }},
        greatest(
            coalesce(report_totals.report_{{ column }}, 0) - coalesce(covered_events.attributed_{{ column }}, 0), 0
        ) as remaining_{{ column }}{{ "," if not loop.last }}
    {% endfor %}
    from report_totals
    full outer join covered_events
        on
            report_totals.provider = covered_events.provider
            and report_totals.usage_date = covered_events.usage_date
            and report_totals.match_key = covered_events.match_key
            and report_totals.service_tier = covered_events.service_tier
            and report_totals.speed_key = covered_events.speed_key
)

select * from final
