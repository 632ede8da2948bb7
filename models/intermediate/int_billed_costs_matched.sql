{#-
    What the providers bill for what the ledger prices, per UTC day × bill format × catalog
    provider × catalog model: Anthropic's cost report items of cost_type 'tokens', OpenAI's
    costs line items whose model the catalog knows, and Anthropic's web search items, as one
    model_id 'web_search' per day (the bill gives them no model). Other items (code execution,
    storage, OpenAI's tool calls, fine-tuning without a catalog price) are not usage the ledger
    prices, so they are not reconciled.
-#}
with

anthropic_cost_items as (
    select * from {{ ref('stg_anthropic__cost_items') }}
),

openai_cost_items as (
    select * from {{ ref('stg_openai__cost_items') }}
),

matched_models as (
    select * from {{ ref('int_models_matched') }}
),

cost_items as (
    select
        bill_date,
        source_format,
        provider,
        case when cost_type = 'web_search' then 'web_search' end as priced_item,
        model,
        billed_cost_usd
    from anthropic_cost_items
    where cost_type in ('tokens', 'web_search')
    union all
    select
        bill_date,
        source_format,
        provider,
        null as priced_item,
        model,
        billed_cost_usd
    from openai_cost_items
    where model is not null
),

matched as (
    select
        cost_items.bill_date,
        cost_items.source_format,
        coalesce(matched_models.catalog_provider, cost_items.provider) as provider,
        coalesce(cost_items.priced_item, matched_models.model_id, 'unpriced') as model_id,
        cost_items.billed_cost_usd
    from cost_items
    left join matched_models
        on
            cost_items.priced_item is null
            and cost_items.provider = matched_models.provider
            and cost_items.model = matched_models.model
    -- an OpenAI line item without a catalog model is not a token cost
    where cost_items.source_format <> 'openai-costs' or matched_models.model_id is not null
),

final as (
    select
        bill_date,
        source_format,
        provider,
        model_id,
        cast(sum(billed_cost_usd) as decimal(38, 9)) as billed_cost_usd
    from matched
    group by all
)

select * from final
