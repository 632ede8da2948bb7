{#-
    Incremental by usage day (delete+insert): a day's rows are a function of that day's person
    facts and of its published groups, which are counted over the month so far, so a run
    rebuilds each queued day and the rest of its month (see days_to_rebuild): the new day of
    an hourly run, a late file's day and the days after it whose groups it may change.
    Rows of a group withheld under k that day (org_groups.is_published false) are not here.
    `token-ledger build -- --full-refresh` rebuilds everything and gives the same result.
    The queued days are deleted first (pre_hook delete_queued_days): a day rebuilt to no rows
    keeps none of its old ones.
-#}
{{ config(
    materialized='incremental',
    unique_key='usage_date',
    incremental_strategy='delete+insert',
    pre_hook="{{ delete_queued_days('usage_date', through_month_end=true) }}",
    on_schema_change='append_new_columns',
) }}

with

events as (
    select * from {{ ref('fct_person_usage_daily') }}
    where {{ days_to_rebuild('usage_date', through_month_end=true) }}
),

org_groups as (
    select * from {{ ref('dim_org_groups_daily') }}
),

provider_aliases as (
    select * from {{ ref('provider_aliases') }}
),

published_events as (
    select
        events.usage_date,
        org_groups.published_team_id as team_id,
        org_groups.published_cost_center as cost_center,
        coalesce(events.catalog_provider, provider_aliases.catalog_provider, 'other') as provider,
        -- who invoices it: Claude through Bedrock is Anthropic's model on AWS's invoice
        coalesce(provider_aliases.billed_by, 'other') as billed_by,
        coalesce(events.model_id, 'unpriced') as model_id,
        {{ published_label('events.application', var('published_applications')) }} as application,
        events.user_email,
        events.price_status,
        events.requests,
        events.input_tokens,
        events.output_tokens,
        events.cache_read_tokens,
        events.cache_write_5m_tokens,
        events.cache_write_1h_tokens,
        events.total_tokens,
        events.web_search_requests,
        events.web_search_cost_usd,
        events.list_cost_usd,
        events.cost_usd
    from events
    inner join org_groups
        on
            events.usage_date = org_groups.usage_date
            and events.team_id = org_groups.team_id
            and events.cost_center = org_groups.cost_center
    left join provider_aliases on events.provider = provider_aliases.reported_provider
    where org_groups.is_published
),

daily as (
    select
        usage_date,
        team_id,
        cost_center,
        provider,
        model_id,
        application,
        billed_by,
        sum(requests) as requests,
        count(distinct user_email) as active_users,
        sum(input_tokens) as input_tokens,
        sum(output_tokens) as output_tokens,
        sum(cache_read_tokens) as cache_read_tokens,
        sum(cache_write_5m_tokens) as cache_write_5m_tokens,
        sum(cache_write_1h_tokens) as cache_write_1h_tokens,
        sum(cache_write_5m_tokens + cache_write_1h_tokens) as cache_write_tokens,
        sum(total_tokens) as total_tokens,
        sum(list_cost_usd) as list_cost_usd,
        sum(cost_usd) as cost_usd,
        sum(requests) filter (where price_status = 'unpriced') as unpriced_requests,
        sum(web_search_requests) as web_search_requests,
        sum(web_search_cost_usd) as web_search_cost_usd
    from published_events
    group by all
),

final as (
    select
        usage_date,
        team_id,
        cost_center,
        provider,
        model_id,
        application,
        cast(requests as bigint) as requests,
        cast(active_users as bigint) as active_users,
        cast(input_tokens as bigint) as input_tokens,
        cast(output_tokens as bigint) as output_tokens,
        cast(cache_read_tokens as bigint) as cache_read_tokens,
        cast(cache_write_5m_tokens as bigint) as cache_write_5m_tokens,
        cast(cache_write_1h_tokens as bigint) as cache_write_1h_tokens,
        cast(cache_write_tokens as bigint) as cache_write_tokens,
        cast(total_tokens as bigint) as total_tokens,
        cast(list_cost_usd as decimal(38, 9)) as list_cost_usd,
        cast(cost_usd as decimal(38, 9)) as cost_usd,
        cast(coalesce(unpriced_requests, 0) as bigint) as unpriced_requests,
        cast(web_search_requests as bigint) as web_search_requests,
        cast(web_search_cost_usd as decimal(38, 9)) as web_search_cost_usd,
        billed_by
    from daily
)

select * from final
