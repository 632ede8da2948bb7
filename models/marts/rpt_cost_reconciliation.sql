{#-
    Costs reconciled, per UTC day × source format × provider × catalog model:
    - a source's own cost estimate (Claude Code's cost_usd, transcripts' costUSD, LiteLLM's
      spend, canonical reported_cost_usd) against the list cost computed for the same usage,
      over the usage fct_usage_daily publishes (groups of k people);
    - a provider's bill (anthropic-cost-report, openai-costs; token costs per model, and
      Anthropic's web searches as model_id 'web_search') against the cost computed for all the
      usage of the day that provider bills (cost_usd: after negotiated prices; not Claude
      through Bedrock, nor OpenAI's models through Azure: provider_aliases), on days the bill
      covers and no group is withheld under k (an organisation-wide total would otherwise
      reveal what is withheld).
    is_flagged when the difference exceeds the tolerance (relative, at least 1 cent of base).
-#}
with

usage_events as (
    select * from {{ ref('fct_usage_events') }}
),

org_groups as (
    select * from {{ ref('dim_org_groups_daily') }}
),

billed_costs as (
    select * from {{ ref('int_billed_costs_matched') }}
),

provider_aliases as (
    select * from {{ ref('provider_aliases') }}
),

reported_events as (
    -- what fct_usage_daily publishes (k): never the usage of a group withheld that day
    select usage_events.*
    from usage_events
    inner join org_groups
        on
            usage_events.usage_date = org_groups.usage_date
            and usage_events.team_id = org_groups.team_id
            and usage_events.cost_center = org_groups.cost_center
    where org_groups.is_published and usage_events.reported_cost_usd is not null
),

reported_daily as (
    select
        usage_date,
        source_format,
        coalesce(catalog_provider, 'other') as provider,
        coalesce(model_id, 'unpriced') as model_id,
        sum(requests) as requests,
        sum(reported_cost_usd) as reported_cost_usd,
        cast(null as decimal(38, 9)) as billed_cost_usd,
        sum(list_cost_usd) as computed_list_cost_usd,
        sum(cost_usd) as computed_cost_usd
    from reported_events
    group by all
),

withheld_days as (
    select distinct usage_date
    from org_groups
    where not is_published
),

billed_days as (
    -- the days and providers a bill covers, with the bill's format
    select distinct
        bill_date as usage_date,
        source_format,
        provider
    from billed_costs
    where bill_date not in (select withheld_days.usage_date from withheld_days)
),

billed_usage as (
    select
        billed_days.usage_date,
        billed_days.source_format,
        billed_days.provider,
        coalesce(usage_events.model_id, 'unpriced') as model_id,
        usage_events.requests,
        usage_events.web_search_requests,
        usage_events.web_search_cost_usd,
        usage_events.list_cost_usd,
        usage_events.cost_usd
    from billed_days
    inner join usage_events
        on
            billed_days.usage_date = usage_events.usage_date
            and billed_days.provider = usage_events.catalog_provider
    -- only the usage that provider bills: Claude through Bedrock is on AWS's bill, not Anthropic's
    inner join provider_aliases
        on
            usage_events.provider = provider_aliases.reported_provider
            and billed_days.provider = provider_aliases.billed_by
),

computed_daily as (
    -- the tokens by model, as the bill lists them
    select
        usage_date,
        source_format,
        provider,
        model_id,
        sum(requests) as requests,
        sum(list_cost_usd - web_search_cost_usd) as computed_list_cost_usd,
        sum(cost_usd - web_search_cost_usd) as computed_cost_usd
    from billed_usage
    group by all
    union all
    -- the web searches of the day, one item of the bill whatever the model
    select
        usage_date,
        source_format,
        provider,
        'web_search' as model_id,
        sum(requests) as requests,
        sum(web_search_cost_usd) as computed_list_cost_usd,
        sum(web_search_cost_usd) as computed_cost_usd
    from billed_usage
    where web_search_requests > 0
    group by all
),

billed_daily as (
    select
        coalesce(billed_costs.bill_date, computed_daily.usage_date) as usage_date,
        coalesce(billed_costs.source_format, computed_daily.source_format) as source_format,
        coalesce(billed_costs.provider, computed_daily.provider) as provider,
        coalesce(billed_costs.model_id, computed_daily.model_id) as model_id,
        coalesce(computed_daily.requests, 0) as requests,
        cast(null as decimal(38, 9)) as reported_cost_usd,
        coalesce(billed_costs.billed_cost_usd, 0) as billed_cost_usd,
        coalesce(computed_daily.computed_list_cost_usd, 0) as computed_list_cost_usd,
        coalesce(computed_daily.computed_cost_usd, 0) as computed_cost_usd
    from billed_costs
    full outer join computed_daily
        on
            billed_costs.bill_date = computed_daily.usage_date
            and billed_costs.source_format = computed_daily.source_format
            and billed_costs.provider = computed_daily.provider
            and billed_costs.model_id = computed_daily.model_id
    where
        coalesce(billed_costs.bill_date, computed_daily.usage_date)
        not in (select withheld_days.usage_date from withheld_days)
),

compared as (
    select
        *,
        coalesce(billed_cost_usd, reported_cost_usd) as claimed_cost_usd,
        -- a bill is what the company pays (after negotiated prices); a source's estimate is at list price
        case when billed_cost_usd is not null then computed_cost_usd else computed_list_cost_usd end as base_cost_usd,
        case
            when billed_cost_usd is not null then {{ var('bill_reconciliation_tolerance') }}
            else {{ var('cost_reconciliation_tolerance') }}
        end as tolerance
    from (
        select * from reported_daily
        union all
        select * from billed_daily
    ) as all_rows
),

final as (
    select
        usage_date,
        source_format,
        provider,
        model_id,
        cast(requests as bigint) as requests,
        cast(reported_cost_usd as decimal(38, 9)) as reported_cost_usd,
        cast(billed_cost_usd as decimal(38, 9)) as billed_cost_usd,
        cast(computed_list_cost_usd as decimal(38, 9)) as computed_list_cost_usd,
        cast(computed_cost_usd as decimal(38, 9)) as computed_cost_usd,
        cast(claimed_cost_usd - base_cost_usd as decimal(38, 9)) as difference_usd,
        case
            when base_cost_usd is null then null
            when base_cost_usd = 0 then case when claimed_cost_usd = 0 then 0.0 end
            else cast((claimed_cost_usd - base_cost_usd) / base_cost_usd as double)
        end as relative_difference,
        cast(tolerance as double) as tolerance,
        coalesce(abs(claimed_cost_usd - base_cost_usd) > tolerance * greatest(abs(base_cost_usd), 0.01), true)
            as is_flagged
    from compared
)

select * from final
