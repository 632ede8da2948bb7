{#
    Fails for a reviewed model alias whose catalog model the price catalog does not know (a
    typo would otherwise leave the model's usage unpriced with no sign of why).
#}
with

model_aliases as (
    select * from {{ ref('model_aliases') }}
),

catalog as (
    select * from {{ ref('price_catalog') }}
),

unknown as (
    select
        model_aliases.provider,
        model_aliases.model,
        model_aliases.catalog_provider,
        model_aliases.model_id
    from model_aliases
    where not exists (
        select 1 from catalog
        where
            catalog.provider = model_aliases.catalog_provider
            and catalog.model_id = model_aliases.model_id
    )
)

select * from unknown
