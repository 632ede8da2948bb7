{#
    pii_exposures: a SQL query with one row per public model column that exposes personal
    data unmasked: a column classified `pii` with no `masking`, or a column named like an
    identifier (email, name, employee id, user id, api key) with no classification. Read from
    the project graph, so it covers every public model, present and future.
#}
{% macro pii_exposures() -%}
{%- set identifier_names = ['email', 'user_email', 'full_name', 'name', 'employee_id', 'user_id',
'api_key', 'manager_email', 'end_user', 'account_uuid'] -%}
{%- set rows = [] -%}
{%- if execute -%}
{%- for node in graph.nodes.values() if node.resource_type == 'model' and node.get('access') == 'public' -%}
{%- for column_name in node.columns -%}
{%- set meta = column_meta(column_name, node) -%}
{%- if meta.get('pii') and not meta.get('masking') -%}
{%- do rows.append((node.name, column_name, 'classified pii: ' ~ meta.get('pii') ~ ', not masked')) -%}
{%- elif not meta.get('pii') and column_name | lower in identifier_names -%}
{%- do rows.append((node.name, column_name, 'named like an identifier, not classified')) -%}
{%- endif -%}
{%- endfor -%}
{%- endfor -%}
{%- endif -%}
{%- if rows -%}
{%- for model_name, column_name, problem in rows %}
select '{{ model_name }}' as model_name, '{{ column_name }}' as column_name, '{{ problem }}' as problem
{%- if not loop.last %}
union all
{%- endif -%}
{%- endfor -%}
{%- else %}
select null as model_name, null as column_name, null as problem where false
{%- endif -%}
{%- endmacro %}
