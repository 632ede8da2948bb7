{#
    day_input_digests: SQL giving one row per usage_date with an input_digest of everything a
    mart's rows for that day are made of, for changed_input_days and record_day_input_digests.
    `by_day`: (relation, day column), the input whose days are the mart's days; `groups`:
    optionally (relation, day column, columns), a second input by day of which only `columns`
    matter (the published groups, not their head counts); `constants`: relations that apply to every day (seeds);
    `settings`: values of vars the mart reads. Rows are digested by an order-independent sum of
    row hashes (whole rows but for `groups`): about 0.05 s per million rows. DuckDB's hash
    may change between versions: the digests then all differ once, and every day is rebuilt
    once.
#}
{% macro day_input_digests(by_day, groups=none, constants=[], settings=[]) -%}
    {%- set constant_digests = [] -%}
    {%- for relation in constants -%}
        {%- do constant_digests.append(
            "(select coalesce(sum(hash(input_row)::hugeint), 0) from " ~ relation ~ " as input_row)"
        ) -%}
    {%- endfor -%}
    {%- do constant_digests.append("'" ~ (settings | tojson | replace("'", "''")) ~ "'") -%}
    with by_day as (
        select {{ by_day[1] }} as usage_date, sum(hash(input_row)::hugeint) as digest
        from {{ by_day[0] }} as input_row
        group by all
    ),
    {%- if groups %}
    by_groups as (
        select {{ groups[1] }} as usage_date, sum(hash({{ groups[2] | join(', ') }})::hugeint) as digest
        from {{ groups[0] }}
        group by all
    ),
    {%- endif %}
    constants as (
        select concat_ws('|', {{ constant_digests | join(', ') }}) as digest
    )
    select
        by_day.usage_date,
        md5(concat_ws('|', by_day.digest, {{ 'by_groups.digest, ' if groups }}constants.digest)) as input_digest
    from by_day
    {%- if groups %}
    left join by_groups on by_day.usage_date = by_groups.usage_date
    {%- endif %}
    cross join constants
{%- endmacro %}
