{#
    incremental_state_relation: the table, in the model's own schema, where the incremental
    models by usage day record the reference fingerprint they were last built with (one row per
    model; written by record_reference_fingerprint, read by incremental_days).
#}
{% macro incremental_state_relation() -%}
    {{- return(api.Relation.create(database=this.database, schema=this.schema, identifier='incremental_state')) -}}
{%- endmacro %}
