{#
    normalize_model_ref: a reported model id reduced to the form the catalog's match rules use:
    lower case; gateway prefixes (`anthropic/`, `openai/`, `vertex_ai/`, ...) removed; Bedrock
    spellings (`us.anthropic.claude-...-v1:0`) and Vertex spellings (`claude-...@20250929`) unified.
#}
{% macro normalize_model_ref(expression) -%}
    regexp_replace(
        regexp_replace(
            regexp_replace(
                regexp_replace(
                    regexp_replace(lower(trim({{ expression }})), '^([a-z0-9_-]+/)+', ''),
                    '^(us|eu|apac|global|jp|au|ca|us-gov)\.', ''
                ),
                '^(anthropic|openai|google|meta|amazon)\.', ''
            ),
            '-v[0-9]+(:[0-9]+)?$', ''
        ),
        '@', '-'
    )
{%- endmacro %}
