{#-
    Incremental by usage day (delete+insert): a run rebuilds the days queued in
    raw.rebuild_days (see days_to_rebuild): the days newly landed records belong to, whatever
    their age (so late and out-of-order files need no fixed lookback), an erased person's days,
    and every day when reference data changed. `token-ledger build -- --full-refresh`
    rebuilds everything and gives the same result.
    The queued days are deleted first (pre_hook delete_queued_days): a day rebuilt to no rows
    keeps none of its old ones.
-#}
{{ config(
    materialized='incremental',
    unique_key='usage_date',
    incremental_strategy='delete+insert',
    pre_hook="{{ delete_queued_days('usage_date') }}",
    on_schema_change='sync_all_columns',
) }}

with

priced_events as (
    select * from {{ ref('int_usage_events_priced') }}
    where {{ days_to_rebuild('occurred_at') }}
),

final as (
    select
        priced_events.event_id,
        priced_events.source_format,
        priced_events.request_id,
        priced_events.occurred_at,
        cast(priced_events.occurred_at as date) as usage_date,
        priced_events.provider,
        priced_events.model,
        priced_events.model_id,
        priced_events.catalog_provider,
        priced_events.user_email,
        priced_events.team_id,
        priced_events.cost_center,
        priced_events.application,
        priced_events.requests,
        priced_events.input_tokens,
        priced_events.output_tokens,
        priced_events.cache_read_tokens,
        priced_events.cache_write_5m_tokens,
        priced_events.cache_write_1h_tokens,
        priced_events.input_tokens
        + priced_events.output_tokens
        + priced_events.cache_read_tokens
        + priced_events.cache_write_5m_tokens
        + priced_events.cache_write_1h_tokens as total_tokens,
        priced_events.service_tier,
        priced_events.speed,
        priced_events.inference_geo,
        priced_events.is_long_context,
        priced_events.web_search_requests,
        priced_events.web_search_cost_usd,
        priced_events.input_audio_tokens,
        priced_events.output_audio_tokens,
        priced_events.list_cost_usd,
        priced_events.cost_usd,
        priced_events.price_status,
        priced_events.reported_cost_usd,
        priced_events.loaded_at as source_loaded_at
    from priced_events
)

select * from final
