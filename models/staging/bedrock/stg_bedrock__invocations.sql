with

source as (
    select * from {{ source('bedrock', 'bedrock_invocation_logs') }}
),

renamed as (
    select
        'bedrock' as provider,
        request_id,
        occurred_at,
        -- an inference profile's or a foundation model's ARN names the model id after its last '/'
        case when starts_with(model_id, 'arn:') then regexp_extract(model_id, '[^/]+$') else model_id end as model,
        case when caller like '%@%' then caller end as user_email,
        caller as user_ref,
        'api' as application,
        -- required at landing: never NULL here
        input_tokens,
        output_tokens,
        coalesce(cache_read_tokens, 0) as cache_read_tokens,
        coalesce(cache_write_tokens, 0) as cache_write_5m_tokens,
        0 as cache_write_1h_tokens,
        'standard' as service_tier,
        cast(null as decimal(18, 9)) as reported_cost_usd,
        _loaded_at as loaded_at,
        _batch_id as batch_id,
        _line as source_line
    from source
),

final as (
    select * from renamed
)

select * from final
