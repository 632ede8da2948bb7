{#-
    Each reported (provider, model) mapped to a catalog model: by its reviewed alias
    (seed model_aliases, compared case-insensitively) where it has one, else by the generated
    match rules.
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
        provider_aliases.catalog_provider as rules_provider,
        {{ normalize_model_ref('events.model') }} as model_ref
    from events
    left join provider_aliases on events.provider = provider_aliases.reported_provider
),

clause_hits as (
    select
        reported_models.provider,
        reported_models.model,
        rules.rule_id,
        rules.rule_order,
        rules.clauses_in_rule,
        rules.model_id,
        rules.catalog_provider
    from reported_models
    inner join rules
        on
            reported_models.rules_provider = rules.provider
            and (
                (rules.match_type = 'exact' and reported_models.model_ref = rules.pattern)
                or (rules.match_type = 'prefix' and starts_with(reported_models.model_ref, rules.pattern))
                or (rules.match_type = 'suffix' and ends_with(reported_models.model_ref, rules.pattern))
                or (rules.match_type = 'contains' and contains(reported_models.model_ref, rules.pattern))
                or (rules.match_type = 'regex' and regexp_matches(reported_models.model_ref, rules.pattern))
                or (rules.match_type = 'not_regex' and not regexp_matches(reported_models.model_ref, rules.pattern))
            )
),

rule_hits as (
    select
        provider,
        model,
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
    qualify row_number() over (partition by provider, model order by rule_order, rule_id) = 1
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
