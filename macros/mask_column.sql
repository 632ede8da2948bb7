{#
    mask_column: the masked form of `expression`, chosen by the `masking` entry of the target
    column's meta (the column is classified `pii: ...` in the model's YAML):
      pseudonym -> keyed HMAC-SHA256 pseudonym (64 hex characters)
      redact    -> the literal '[redacted]'
      last4     -> '...' and the last 4 characters (API keys)
      drop      -> NULL (free text never leaves the private warehouse)
    Fails compilation when the column has no masking declared, so a personal column cannot
    be selected into a model through this macro without a decision.
#}
{% macro mask_column(expression, column_name) -%}
    {%- set meta = column_meta(column_name) -%}
    {%- set masking = meta.get('masking') -%}
    {%- if not execute -%}
        cast(null as varchar)
    {%- elif masking == 'pseudonym' -%}
        {{ pseudonymize(expression) }}
    {%- elif masking == 'redact' -%}
        case when {{ expression }} is not null then '[redacted]' end
    {%- elif masking == 'last4' -%}
        case when {{ expression }} is not null then '...' || right({{ expression }}, 4) end
    {%- elif masking == 'drop' -%}
        cast(null as varchar)
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "mask_column: column '" ~ column_name ~ "' of " ~ model.name
            ~ " declares no meta.masking (pseudonym | redact | last4 | drop)") }}
    {%- endif -%}
{%- endmacro %}
