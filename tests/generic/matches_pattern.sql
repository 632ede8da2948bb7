{#
    matches_pattern: fails for every non-null value of the column that does not fully match the
    regular expression (e.g. a pseudonym must be 64 lower-case hex characters).
#}
{% test matches_pattern(model, column_name, pattern) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null and not regexp_full_match({{ column_name }}, '{{ pattern }}')
{% endtest %}
