{#
    not_null_non_negative: the model's not-null and non-negative columns checked in one scan
    (one query per model rather than one per column and rule: a data test costs dbt about 27 ms
    whatever it reads). Fails with one row per broken rule, naming the column and counting the
    rows that break it: `not_null` lists columns that must have a value, `non_negative` columns
    that must not be below zero (token counts, costs; NULL passes).
#}
{% test not_null_non_negative(model, not_null=[], non_negative=[]) %}
    {%- set rules = [] -%}
    {%- for column in not_null %}{% do rules.append([column ~ ' is null', column ~ ' is null']) %}{% endfor -%}
    {%- for column in non_negative %}{% do rules.append([column ~ ' is negative', column ~ ' < 0']) %}{% endfor %}
with counted as (
    select
    {%- for rule, condition in rules %}
        sum(case when {{ condition }} then 1 else 0 end) as failing_{{ loop.index }},
        {%- endfor %}
        count(*) as checked_rows
    from {{ model }}
),

failures as (
{%- for rule, condition in rules %}
    {% if not loop.first %}union all {% endif -%}
    select
        '{{ rule }}' as broken_rule,
        failing_{{ loop.index }} as failing_rows
    from counted
    {%- endfor %}
)

select *
from failures
where failing_rows > 0
{% endtest %}
