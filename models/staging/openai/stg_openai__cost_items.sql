{#- What OpenAI bills: one row per day × line item × project × API key of the costs report, in USD. -#}
with

source as (
    select * from {{ source('openai', 'openai_costs') }}
),

renamed as (
    select
        'openai-costs' as source_format,
        'openai' as provider,
        cast(start_time as date) as bill_date,
        start_time as bucket_start,
        line_item,
        -- a line item reads "<model>[ <modality>], <what>" ("gpt-5-2025-08-07, cached input",
        -- "gpt-realtime-mini audio, output"); other items have no model
        nullif(regexp_replace(trim(split_part(line_item, ',', 1)), '\s+(text|audio|image)$', ''), '') as model,
        nullif(trim(split_part(line_item, ',', 2)), '') as cost_item,
        project_id,
        -- NULL unless the costs are grouped by api_key_id: each key's part then counts
        api_key_id,
        upper(coalesce(currency, 'USD')) as currency,
        cast(amount_value as decimal(38, 9)) as billed_cost_usd,
        _loaded_at as loaded_at,
        _line as source_line
    from source
),

deduplicated as (
    -- a report downloaded again restates its buckets: the latest landed copy wins
    select *
    from renamed
    qualify row_number() over (
        partition by bucket_start, line_item, project_id, api_key_id
        order by loaded_at desc, source_line desc
    ) = 1
)

select * from deduplicated
