{#-
    Complete months only, once over for var('person_rows_lag_days') days, as of
    var('as_of_date') (by default the day the build runs): a row that changed while its month
    runs would show, between two publishes, which user_key was active while the rows of which
    team changed (docs/privacy.md).
-#}
{%- set as_of_date = var('as_of_date') or run_started_at.strftime('%Y-%m-%d') %}
with

events as (
    select * from {{ ref('fct_person_usage_daily') }}
    where usage_date < date_trunc('month', cast('{{ as_of_date }}' as date) - {{ var('person_rows_lag_days') }})
),

monthly as (
    select
        cast(date_trunc('month', usage_date) as date) as usage_month,
        user_email,
        user_key,
        sum(requests) as requests,
        sum(input_tokens) as input_tokens,
        sum(output_tokens) as output_tokens,
        sum(cache_read_tokens) as cache_read_tokens,
        sum(cache_write_5m_tokens + cache_write_1h_tokens) as cache_write_tokens,
        sum(total_tokens) as total_tokens,
        sum(cost_usd) as cost_usd,
        count(distinct usage_date) as active_days
    from events
    where user_email is not null
    group by all
),

-- every figure to two significant figures: exact per-person totals could be matched against a
-- team's exact totals (subset sums) to tie a user_key to its team (docs/privacy.md)
{%- set figures = ['requests', 'input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_write_tokens',
                   'total_tokens', 'cost_usd'] %}
coarsened as (
    select
        usage_month,
        user_key,
        {% for figure in figures -%}
            case
                when {{ figure }} = 0 then 0
                else
                    round({{ figure }} / power(10, floor(log10(abs({{ figure }}))) - 1))
                    * power(10, floor(log10(abs({{ figure }}))) - 1)
            end as {{ figure }},
        {% endfor -%}
        active_days
    from monthly
),

final as (
    select
        usage_month,
        user_key,
        cast(requests as bigint) as requests,
        cast(input_tokens as bigint) as input_tokens,
        cast(output_tokens as bigint) as output_tokens,
        cast(cache_read_tokens as bigint) as cache_read_tokens,
        cast(cache_write_tokens as bigint) as cache_write_tokens,
        cast(total_tokens as bigint) as total_tokens,
        cast(cost_usd as decimal(38, 9)) as cost_usd,
        cast(active_days as bigint) as active_days
    from coarsened
)

select * from final
