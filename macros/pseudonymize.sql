{#
    pseudonymize: the keyed pseudonym of a personal identifier, HMAC-SHA256(key, lower(trim(x)))
    as 64 hex characters (RFC 2104). The key's pads come from DuckDB session variables set by
    the token_ledger.dbt_plugin connection plugin, so the key is never in compiled SQL.
#}
{% macro pseudonymize(expression) -%}
    sha256(
        unhex(getvariable('ledger_hmac_outer'))
        || unhex(sha256(unhex(getvariable('ledger_hmac_inner')) || encode(lower(trim({{ expression }})))))
    )
{%- endmacro %}
