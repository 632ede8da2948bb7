{#
    primary_key: the column is a primary key, unique and never null, checked in one scan (one
    query rather than dbt's `unique` and `not_null`: on a view each test reads the views under
    it again). Fails with one row per key value that is null or appears more than once.
#}
{% test primary_key(model, column_name) %}
select
    {{ column_name }} as key_value,
    count(*) as occurrences
from {{ model }}
group by {{ column_name }}
having count(*) > 1 or {{ column_name }} is null
{% endtest %}
