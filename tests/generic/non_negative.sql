{#
    non_negative: fails for every row where the column is negative (token counts, costs).
#}
{% test non_negative(model, column_name) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} < 0
{% endtest %}
