{#
    changed_input_days: for a mart incremental by usage day whose rows for a day are a function
    of its inputs for that day (and that day's month), a SQL predicate on `day_expression`
    selecting the days to (re)build: the days whose input digest (`input_digests_sql`: one row
    per usage_date with an input_digest) differs from the one record_day_input_digests recorded
    at the last build, or was never recorded. So a landed day, a late file, an erased person,
    a team crossing the k threshold for a month or changed reference data each rebuild exactly
    the days they change. Nothing recorded for the model (first build, new table): every day.
    Outside incremental runs: true.
#}
{% macro changed_input_days(day_expression, input_digests_sql) -%}
    {%- if not (execute and is_incremental()) -%}
        true
    {%- else -%}
        {%- set state_relation = day_digest_state_relation() -%}
        {%- set state_exists = run_query(
            "select count(*) from duckdb_tables() where database_name = '" ~ state_relation.database
            ~ "' and schema_name = '" ~ state_relation.schema ~ "' and table_name = '" ~ state_relation.identifier ~ "'"
        ).rows[0][0] -%}
        {%- set recorded = 0 -%}
        {%- if state_exists -%}
            {%- set recorded = run_query(
                "select count(*) from " ~ state_relation ~ " where model_name = '" ~ this.identifier ~ "'"
            ).rows[0][0] -%}
        {%- endif -%}
        {%- if not recorded -%}
            true
        {%- else -%}
            {%- set days = run_query(
                "select current_inputs.usage_date from (" ~ input_digests_sql ~ ") as current_inputs "
                ~ "left join " ~ state_relation ~ " as recorded on recorded.model_name = '" ~ this.identifier
                ~ "' and recorded.usage_date = current_inputs.usage_date "
                ~ "where recorded.input_digest is distinct from current_inputs.input_digest"
            ).columns[0].values() -%}
            {{- day_ranges(day_expression, days) -}}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
