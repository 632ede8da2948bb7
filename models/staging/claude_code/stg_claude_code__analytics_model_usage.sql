{#-
    The token usage the Claude Code Analytics report lists per day × actor × model
    (`model_breakdown`; terminals summed, the latest landed version of each day × actor ×
    terminal). A report over per-request usage, not requests: int_usage_events_completed counts
    only what per-request events of the same person, day and model do not explain.
    cache_creation tokens are Claude Code's 5-minute cache writes; estimated_cost is in cents.
    Landing quarantines a breakdown that is not an array of such counts; `try_cast` keeps one
    landed before that rule from failing the build.
-#}
with

source as (
    select * from {{ source('claude_code', 'claude_code_analytics_days') }}
),

renamed as (
    select
        date as usage_date,
        actor_type,
        case when actor_type = 'user_actor' then lower(trim(email_address)) end as user_email,
        case when actor_type = 'api_actor' then api_key_name end as api_key_name,
        coalesce(terminal_type, '') as terminal_type,
        model_breakdown,
        _loaded_at as loaded_at,
        _line as source_line
    from source
),

latest as (
    select *
    from renamed
    qualify row_number() over (
        partition by usage_date, actor_type, user_email, api_key_name, terminal_type
        order by loaded_at desc, source_line desc
    ) = 1
),

entries as (
    select
        usage_date,
        actor_type,
        user_email,
        api_key_name,
        loaded_at,
        unnest(from_json(cast(model_breakdown as json), '["json"]')) as entry
    from latest
    where json_type(try_cast(model_breakdown as json)) = 'ARRAY'
),

final as (
    select
        usage_date,
        actor_type,
        user_email,
        api_key_name,
        entry ->> 'model' as model,
        cast(sum(coalesce(try_cast(entry -> 'tokens' ->> 'input' as bigint), 0)) as bigint) as input_tokens,
        cast(sum(coalesce(try_cast(entry -> 'tokens' ->> 'output' as bigint), 0)) as bigint) as output_tokens,
        cast(sum(coalesce(try_cast(entry -> 'tokens' ->> 'cache_read' as bigint), 0)) as bigint) as cache_read_tokens,
        cast(sum(coalesce(try_cast(entry -> 'tokens' ->> 'cache_creation' as bigint), 0)) as bigint)
            as cache_write_5m_tokens,
        sum(try_cast(entry -> 'estimated_cost' ->> 'amount' as decimal(18, 4)) / 100) as reported_cost_usd,
        max(loaded_at) as loaded_at
    from entries
    where entry ->> 'model' is not null
    group by all
)

select * from final
