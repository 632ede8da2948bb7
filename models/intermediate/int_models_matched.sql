{#-
    Each reported (provider, model) mapped to a catalog model: by its reviewed alias
    (seed model_aliases, compared case-insensitively) where it has one, else by the generated
    match rules: its catalog provider's (for a router without one, OpenRouter, the catalog of
    the maker its model's path names), then (seed provider_aliases'
    fallback_catalog_provider) a host's own catalog for the models it hosts besides (Amazon
    Bedrock's Nova, Llama, Mistral: genai-prices' aws rules, written for Bedrock's model ids as
    reported, so compared with the id as reported, without a gateway's path, not normalised).
-#}
with

events as (
    select
        provider,
        model
    from {{ ref('int_usage_events_unioned') }}
    union
    select
        provider,
        model
    from {{ ref('int_usage_buckets_owned') }}
    union
    select
        'anthropic' as provider,
        model
    from {{ ref('stg_claude_code__analytics_model_usage') }}
    union
    select
        provider,
        model
    from {{ ref('stg_anthropic__cost_items') }}
    where model is not null
    union
    select
        provider,
        model
    from {{ ref('stg_openai__cost_items') }}
    where model is not null
),

rules as (
    select * from {{ ref('model_match_rules') }}
),

provider_aliases as (
    select * from {{ ref('provider_aliases') }}
),

model_aliases as (
    select * from {{ ref('model_aliases') }}
),

reported_models as (
    select distinct
        events.provider,
        events.model,
        coalesce(provider_aliases.catalog_provider, makers.catalog_provider) as rules_provider,
        provider_aliases.fallback_catalog_provider as fallback_rules_provider,
        {{ normalize_model_ref('events.model') }} as model_ref
    from events
    left join provider_aliases on events.provider = provider_aliases.reported_provider
    -- a router without a catalog of its own (OpenRouter: openrouter/anthropic/claude-sonnet-4.5)
    -- charges the maker's prices: the maker its model's path names, through the same aliases;
    -- not its free variants (…:free, no charge), which the maker's prefix rules would price
    left join provider_aliases as makers
        on
            provider_aliases.reported_provider is not null
            and provider_aliases.catalog_provider is null
            and not ends_with(lower(events.model), ':free')
            and makers.reported_provider = regexp_extract(lower(events.model), '([^/]+)/[^/]+$', 1)
),

-- the catalog provider's rules on the normalised name, then the fallback's on the name as
-- reported
candidates as (
    select
        provider,
        model,
        rules_provider as candidate_provider,
        model_ref as candidate_ref,
        1 as preference
    from reported_models
    union all
    select
        provider,
        model,
        fallback_rules_provider as candidate_provider,
        regexp_replace(lower(trim(model)), '^([a-z0-9_-]+/)+', '') as candidate_ref,
        2 as preference
    from reported_models
    where fallback_rules_provider is not null
),

clause_hits as (
    select
        candidates.provider,
        candidates.model,
        candidates.preference,
        rules.rule_id,
        rules.rule_order,
        rules.clauses_in_rule,
        rules.model_id,
        rules.catalog_provider
    from candidates
    inner join rules
        on
            candidates.candidate_provider = rules.provider
            and (
                (rules.match_type = 'exact' and candidates.candidate_ref = rules.pattern)
                or (rules.match_type = 'prefix' and starts_with(candidates.candidate_ref, rules.pattern))
                or (rules.match_type = 'suffix' and ends_with(candidates.candidate_ref, rules.pattern))
                or (rules.match_type = 'contains' and contains(candidates.candidate_ref, rules.pattern))
                or (rules.match_type = 'regex' and regexp_matches(candidates.candidate_ref, rules.pattern))
                or (rules.match_type = 'not_regex' and not regexp_matches(candidates.candidate_ref, rules.pattern))
            )
),

rule_hits as (
    select
        provider,
        model,
        preference,
        rule_id,
        rule_order,
        model_id,
        catalog_provider
    from clause_hits
    group by all
    having count(*) = max(clauses_in_rule)
),

best_match as (
    select *
    from rule_hits
    qualify row_number() over (partition by provider, model order by preference, rule_order, rule_id) = 1
),

final as (
    select
        reported_models.provider,
        reported_models.model,
        reported_models.model_ref,
        coalesce(model_aliases.model_id, best_match.model_id) as model_id,
        coalesce(model_aliases.catalog_provider, best_match.catalog_provider) as catalog_provider
    from reported_models
    left join model_aliases
        on
            lower(reported_models.provider) = lower(model_aliases.provider)
            and lower(trim(reported_models.model)) = lower(trim(model_aliases.model))
    left join best_match
        on
            reported_models.provider = best_match.provider
            and reported_models.model = best_match.model
)

select * from final
