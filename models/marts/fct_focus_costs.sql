{#-
    FOCUS 1.2 cost and usage rows: one charge per fct_usage_daily row, tokens as the consumed
    quantity. BilledCost is what the provider bills where its bill covers the day (the row's
    token cost times billed / computed for that day × provider × model in
    rpt_cost_reconciliation, its web searches' cost times the same for the day's 'web_search'
    item), else the computed cost. Incremental by charge day like fct_usage_daily, the same days
    (queued days through their month's end; a landed bill queues its days).
    The queued days are deleted first (pre_hook delete_queued_days): a day rebuilt to no rows
    keeps none of its old ones.
-#}
{{ config(
    materialized='incremental',
    unique_key='ChargePeriodStart',
    incremental_strategy='delete+insert',
    pre_hook="{{ delete_queued_days('cast(ChargePeriodStart as date)', through_month_end=true) }}",
    on_schema_change='append_new_columns',
) }}
-- FOCUS column names are case-sensitive for the tools that read them: keep them quoted
-- noqa: disable=RF06
with

daily as (
    select * from {{ ref('fct_usage_daily') }}
    where {{ days_to_rebuild('usage_date', through_month_end=true) }}
),

reconciliation as (
    select * from {{ ref('rpt_cost_reconciliation') }}
),

bill_ratios as (
    select
        usage_date,
        provider,
        model_id,
        billed_cost_usd / computed_cost_usd as bill_ratio
    from reconciliation
    where billed_cost_usd is not null and computed_cost_usd > 0
),

billed as (
    select
        daily.*,
        -- the names FOCUS shows: who invoices (billed_by), and the model's maker (provider)
        {% for column, name in [('billed_by', 'invoice_issuer'), ('provider', 'publisher')] -%}
            case daily.{{ column }}
                when 'anthropic' then 'Anthropic'
                when 'openai' then 'OpenAI'
                when 'google' then 'Google'
                when 'aws' then 'AWS'
                when 'microsoft' then 'Microsoft'
                when 'openrouter' then 'OpenRouter'
                else 'Other'
            end as {{ name }},
        {% endfor -%}
        bill_ratios.bill_ratio is not null as is_billed,
        (coalesce(daily.cost_usd, 0) - coalesce(daily.web_search_cost_usd, 0)) * coalesce(bill_ratios.bill_ratio, 1)
        + coalesce(daily.web_search_cost_usd, 0) * coalesce(web_search_ratios.bill_ratio, 1) as billed_cost_usd
    from daily
    -- a provider's bill covers the usage it invoices: Claude through Bedrock is not on Anthropic's
    left join bill_ratios
        on
            daily.usage_date = bill_ratios.usage_date
            and daily.billed_by = bill_ratios.provider
            and daily.model_id = bill_ratios.model_id
    left join bill_ratios as web_search_ratios
        on
            daily.usage_date = web_search_ratios.usage_date
            and daily.billed_by = web_search_ratios.provider
            and web_search_ratios.model_id = 'web_search'
),

final as (
    select
        cast(billed_cost_usd as decimal(38, 9)) as "BilledCost",
        cast(coalesce(cost_usd, 0) as decimal(38, 9)) as "EffectiveCost",
        cast(coalesce(list_cost_usd, 0) as decimal(38, 9)) as "ListCost",
        cast(coalesce(cost_usd, 0) as decimal(38, 9)) as "ContractedCost",
        'USD' as "BillingCurrency",
        cast(date_trunc('month', usage_date) as timestamp) as "BillingPeriodStart",
        cast(date_trunc('month', usage_date) + interval 1 month as timestamp) as "BillingPeriodEnd",
        cast(usage_date as timestamp) as "ChargePeriodStart",
        cast(usage_date + interval 1 day as timestamp) as "ChargePeriodEnd",
        'Usage' as "ChargeCategory",
        cast(null as varchar) as "ChargeClass",
        'Usage-Based' as "ChargeFrequency",
        model_id || ' tokens (' || application || ')'
        || case when unpriced_requests > 0 then ', includes unpriced usage' else '' end as "ChargeDescription",
        cast(total_tokens as decimal(38, 9)) as "ConsumedQuantity",
        'Tokens' as "ConsumedUnit",
        cast(total_tokens * 0.000001 as decimal(38, 9)) as "PricingQuantity",
        '1M Tokens' as "PricingUnit",
        invoice_issuer as "ProviderName",
        publisher as "PublisherName",
        invoice_issuer as "InvoiceIssuerName",
        case
            when billed_by = 'aws' then 'Amazon Bedrock'
            when billed_by = 'microsoft' then 'Azure OpenAI'
            when billed_by = 'openrouter' then 'OpenRouter'
            when billed_by = 'google' and provider = 'anthropic' then 'Vertex AI'
            when provider = 'anthropic' then 'Claude API'
            when provider = 'openai' then 'OpenAI API'
            when provider = 'google' then 'Gemini API'
            else 'LLM API'
        end as "ServiceName",
        'AI and Machine Learning' as "ServiceCategory",
        'Generative AI' as "ServiceSubcategory",
        model_id as "SkuId",
        provider || ':' || model_id as "SkuPriceId",
        cost_center as "SubAccountId",
        cost_center as "SubAccountName",
        cast(null as varchar) as "RegionId",
        cast(null as varchar) as "ResourceId",
        json_object('team', team_id, 'cost_center', cost_center, 'application', application) as "Tags",
        cast(requests as bigint) as "x_Requests",
        cast(input_tokens as bigint) as "x_InputTokens",
        cast(output_tokens as bigint) as "x_OutputTokens",
        cast(cache_read_tokens as bigint) as "x_CacheReadTokens",
        cast(cache_write_tokens as bigint) as "x_CacheWriteTokens",
        team_id as "x_TeamId",
        is_billed as "x_BilledByProvider"
    from billed
)

select * from final
