{#
    record_day_input_digests: post-hook of a mart rebuilt by input digest (changed_input_days).
    Deletes the model's rows for days its inputs no longer have (a day whose only person was
    erased, say: delete+insert alone would keep them), then records the digest of every day's
    inputs it was just built from, one row per model and day in day_digest_state_relation().
    It runs inside the model's transaction, so the digests are committed with the rows they
    describe or not at all.
#}
{% macro record_day_input_digests(day_column, input_digests_sql) -%}
    {%- set state = day_digest_state_relation() -%}
    create table if not exists {{ state }} (
        model_name varchar not null,
        usage_date date not null,
        input_digest varchar not null,
        recorded_at timestamp not null,
        primary key (model_name, usage_date)
    );
    create or replace temp table {{ this.identifier }}__input_digests as {{ input_digests_sql }};
    delete from {{ this }}
    where {{ day_column }} not in (select usage_date from {{ this.identifier }}__input_digests);
    delete from {{ state }} where model_name = '{{ this.identifier }}';
    insert into {{ state }}
    select '{{ this.identifier }}', usage_date, input_digest, current_timestamp
    from {{ this.identifier }}__input_digests;
    drop table {{ this.identifier }}__input_digests
{%- endmacro %}
