{#
    duckdb__create_table_as: dbt-duckdb's CREATE TABLE AS, plus per-column storage compression
    for a model that sets `column_compression` ({column: method}) in its config. DuckDB picks a
    compression per column segment by trying them all; for a column of nearly unique strings
    (request ids) dictionary + FSST costs about 0.75 s per 10 M rows to save 180 MB, so such
    a column is declared `uncompressed`. The table is then created from the query's own column
    types with `using compression` where asked, and filled by one insert. Every other table,
    and temporary tables, go through dbt-duckdb's macro unchanged.
#}
{% macro duckdb__create_table_as(
    temporary, relation, compiled_code, language='sql', partitioned_by=none, sorted_by=none
) -%}
    {%- set compression = config.get('column_compression') or {} -%}
    {%- if temporary or language != 'sql' or not compression or config.get('contract').enforced
        or partitioned_by or sorted_by -%}
        {{ dbt.duckdb__create_table_as(
            temporary, relation, compiled_code, language, partitioned_by, sorted_by
        ) }}
    {%- else -%}
        {%- set described = run_query('describe select * from (\n' ~ compiled_code ~ '\n) as model_subq') -%}
        {%- set known = described.columns['column_name'].values() | list -%}
        {%- for column in compression if column not in known -%}
            {{ exceptions.raise_compiler_error(
                "column_compression names '" ~ column ~ "', which " ~ relation ~ " does not have"
            ) }}
        {%- endfor -%}
        {%- set columns = [] -%}
        {%- for row in described.rows -%}
            {%- set method = compression.get(row['column_name']) -%}
            {%- do columns.append(
                adapter.quote(row['column_name']) ~ ' ' ~ row['column_type']
                ~ (' using compression ' ~ method if method else '')
            ) -%}
        {%- endfor %}
        create table {{ relation }} ({{ columns | join(', ') }});
        insert into {{ relation }}
        select * from (
            {{ compiled_code }}
        ) as model_subq;
    {%- endif -%}
{%- endmacro %}
