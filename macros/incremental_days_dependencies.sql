{#
    incremental_days_dependencies: `-- depends_on:` lines for every relation that
    reference_fingerprint and incremental_days read at run time (inside `if execute`, where dbt's
    parser cannot see them), so an incremental model by usage day builds after all of them.
    Call it at the top of the model.
#}
{% macro incremental_days_dependencies() -%}
    {%- for name in [
        'price_catalog', 'pricing_rules', 'price_overrides', 'model_match_rules', 'provider_aliases',
        'int_directory_memberships_historized', 'stg_key_owners__api_key_owners',
        'stg_canonical__usage_events', 'stg_claude_code__api_requests', 'stg_claude_code__transcript_messages',
        'stg_litellm__spend_logs', 'stg_anthropic__usage_buckets', 'stg_openai__usage_buckets',
        'stg_claude_code__analytics_model_usage',
    ] %}
-- depends_on: {{ ref(name) }}
    {%- endfor %}
{%- endmacro %}
