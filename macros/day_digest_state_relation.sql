{#
    day_digest_state_relation: the table, in the model's own schema, where the marts rebuilt by
    input digest (see changed_input_days) record, per model and usage day, the digest of the
    inputs each day was last built from (written by record_day_input_digests). Not a model: it
    is never published.
#}
{% macro day_digest_state_relation() -%}
    {{- return(api.Relation.create(
        database=this.database, schema=this.schema, identifier='incremental_day_digests'
    )) -}}
{%- endmacro %}
