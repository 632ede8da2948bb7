{#-
    The events summed per day and person (with the person's team and cost centre at the time)
    and per provider × model × application × price status: one tenth of the rows or fewer, so
    the daily marts, budgets and anomaly baselines read this, not every request. The person's
    allowance tier that day comes from the directory history here, once per row (directory
    entries take effect from a date, so a person has one tier per day), not from every event.
    Incremental by usage day like fct_usage_events, with the same rule for which days to
    rebuild (the days queued in raw.rebuild_days: see days_to_rebuild).
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

events as (
    select * from {{ ref('fct_usage_events') }}
    where {{ days_to_rebuild('usage_date') }}
),

memberships as (
    select * from {{ ref('int_directory_memberships_historized') }}
),

daily as (
    select
        usage_date,
        user_email,
        team_id,
        cost_center,
        provider,
        catalog_provider,
        model_id,
        application,
        price_status,
        cast(sum(requests) as bigint) as requests,
        cast(sum(input_tokens) as bigint) as input_tokens,
        cast(sum(output_tokens) as bigint) as output_tokens,
        cast(sum(cache_read_tokens) as bigint) as cache_read_tokens,
        cast(sum(cache_write_5m_tokens) as bigint) as cache_write_5m_tokens,
        cast(sum(cache_write_1h_tokens) as bigint) as cache_write_1h_tokens,
        cast(sum(total_tokens) as bigint) as total_tokens,
        cast(sum(web_search_requests) as bigint) as web_search_requests,
        cast(sum(web_search_cost_usd) as decimal(38, 15)) as web_search_cost_usd,
        cast(sum(list_cost_usd) as decimal(38, 15)) as list_cost_usd,
        cast(sum(cost_usd) as decimal(38, 15)) as cost_usd,
        max(source_loaded_at) as source_loaded_at
    from events
    group by all
),

-- the pseudonym once per person (HMAC over the day's distinct emails, not every request)
user_keys as (
    select
        user_email,
        {{ pseudonymize('user_email') }} as user_key
    from (select distinct user_email from daily) as distinct_users
),

final as (
    select
        daily.usage_date,
        daily.user_email,
        user_keys.user_key,
        daily.team_id,
        daily.cost_center,
        memberships.allowance_tier,
        daily.provider,
        daily.catalog_provider,
        daily.model_id,
        daily.application,
        daily.price_status,
        daily.requests,
        daily.input_tokens,
        daily.output_tokens,
        daily.cache_read_tokens,
        daily.cache_write_5m_tokens,
        daily.cache_write_1h_tokens,
        daily.total_tokens,
        daily.web_search_requests,
        daily.web_search_cost_usd,
        daily.list_cost_usd,
        daily.cost_usd,
        daily.source_loaded_at
    from daily
    left join user_keys on daily.user_email = user_keys.user_email
    left join memberships
        on
            daily.user_email = memberships.email
            and daily.usage_date >= memberships.valid_from
            and daily.usage_date < memberships.valid_to
)

select * from final
