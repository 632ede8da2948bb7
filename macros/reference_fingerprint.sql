{#
    reference_fingerprint: an md5 of the reference data priced and attributed usage depends on
    (price catalog, pricing rules, overrides, model match rules, provider aliases, the directory history, key
    owners). When it changes, incremental models rebuild every day. Computed at run time.
#}
{% macro reference_fingerprint() -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set parts = [] -%}
    {%- for relation in [
        ref('price_catalog'), ref('pricing_rules'), ref('price_overrides'), ref('model_match_rules'), ref('provider_aliases'),
        ref('int_directory_memberships_historized'), ref('stg_key_owners__api_key_owners'),
    ] -%}
        {%- do parts.append(
            "select '" ~ relation.identifier ~ "' as part, coalesce(md5(string_agg(md5(cast(r as varchar)), '' "
            ~ "order by md5(cast(r as varchar)))), '') as digest from " ~ relation ~ " as r"
        ) -%}
    {%- endfor -%}
    {%- set result = run_query(
        "select md5(string_agg(digest, '|' order by part)) from (" ~ parts | join(" union all ") ~ ")"
    ) -%}
    {{ return(result.columns[0].values()[0]) }}
{%- endmacro %}
