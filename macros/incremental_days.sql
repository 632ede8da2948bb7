{#
    incremental_days: for an incremental model partitioned by usage day, a SQL predicate on
    `day_expression` selecting the days to (re)build: every day with a raw record landed after
    the model's watermark (max source_loaded_at), or every day when the reference data the
    model depends on (prices, aliases, the directory, key owners) changed since the last build
    (its fingerprint differs from the one record_reference_fingerprint recorded, or none was
    recorded). Outside incremental runs: true.
#}
{% macro incremental_days(day_expression, fingerprint) -%}
    {%- if not (execute and is_incremental()) -%}
        true
    {%- else -%}
        {%- set state_relation = incremental_state_relation() -%}
        {%- set recorded = none -%}
        {%- set state_exists = run_query(
            "select count(*) from duckdb_tables() where database_name = '" ~ state_relation.database
            ~ "' and schema_name = '" ~ state_relation.schema ~ "' and table_name = '" ~ state_relation.identifier ~ "'"
        ).rows[0][0] -%}
        {%- if state_exists -%}
            {%- set rows = run_query(
                "select reference_fingerprint from " ~ state_relation ~ " where model_name = '" ~ this.identifier ~ "'"
            ).rows -%}
            {%- set recorded = rows[0][0] if rows | length else none -%}
        {%- endif -%}
        {%- set state = run_query("select max(source_loaded_at) from " ~ this).rows[0] -%}
        {%- if state[0] is none or recorded != fingerprint -%}
            true
        {%- else -%}
            {%- set landed = [] -%}
            {%- for relation, day, loaded in [
                (ref('stg_canonical__usage_events'), 'occurred_at', 'loaded_at'),
                (ref('stg_claude_code__api_requests'), 'occurred_at', 'loaded_at'),
                (ref('stg_claude_code__transcript_messages'), 'occurred_at', 'loaded_at'),
                (ref('stg_litellm__spend_logs'), 'occurred_at', 'loaded_at'),
                (ref('stg_anthropic__usage_buckets'), 'bucket_start', 'loaded_at'),
                (ref('stg_openai__usage_buckets'), 'bucket_start', 'loaded_at'),
                (ref('stg_claude_code__analytics_model_usage'), 'usage_date', 'loaded_at'),
            ] -%}
                {%- do landed.append(
                    "select distinct cast(" ~ day ~ " as date) as day from " ~ relation
                    ~ " where " ~ loaded ~ " > timestamp '" ~ state[0] ~ "'"
                ) -%}
            {%- endfor -%}
            {%- set days = run_query(landed | join(" union ")).columns[0].values() -%}
            {{- day_ranges(day_expression, days) -}}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
