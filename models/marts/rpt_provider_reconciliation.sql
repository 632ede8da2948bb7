with

coverage as (
    select * from {{ ref('int_report_coverage') }}
),

catalog_models as (
    select distinct model_id from {{ ref('price_catalog') }}
),

-- days on which fct_usage_daily withholds a group under k: organisation-wide figures of
-- attributed usage would reveal it, so those days are not reported
withheld_days as (
    select distinct usage_date
    from {{ ref('dim_org_groups_daily') }}
    where not is_published
),

labelled as (
    select
        coverage.*,
        case when catalog_models.model_id is not null then coverage.match_key else 'unpriced' end as model_id
    from coverage
    left join catalog_models on coverage.match_key = catalog_models.model_id
    left join withheld_days on coverage.usage_date = withheld_days.usage_date
    where withheld_days.usage_date is null
),

final as (
    select
        usage_date,
        provider,
        model_id,
        service_tier,
        cast(sum(report_requests) as bigint) as report_requests,
        cast(sum(attributed_requests) as bigint) as attributed_requests,
        cast(sum(
            report_input_tokens + report_output_tokens + report_cache_read_tokens
            + report_cache_write_5m_tokens + report_cache_write_1h_tokens
        ) as bigint) as report_tokens,
        cast(sum(
            attributed_input_tokens + attributed_output_tokens + attributed_cache_read_tokens
            + attributed_cache_write_5m_tokens + attributed_cache_write_1h_tokens
        ) as bigint) as attributed_tokens,
        cast(sum(
            remaining_input_tokens + remaining_output_tokens + remaining_cache_read_tokens
            + remaining_cache_write_5m_tokens + remaining_cache_write_1h_tokens
        ) as bigint) as remainder_tokens,
        cast(sum(
            greatest(attributed_input_tokens - report_input_tokens, 0)
            + greatest(attributed_output_tokens - report_output_tokens, 0)
            + greatest(attributed_cache_read_tokens - report_cache_read_tokens, 0)
            + greatest(attributed_cache_write_5m_tokens - report_cache_write_5m_tokens, 0)
            + greatest(attributed_cache_write_1h_tokens - report_cache_write_1h_tokens, 0)
        ) as bigint) as unreported_tokens
    from labelled
    group by all
)

select * from final
