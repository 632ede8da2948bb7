{#
    no_overlapping_periods: fails for every pair of rows of one partition whose
    [valid_from, valid_to) periods overlap, and for any period that ends before it starts.
#}
{% test no_overlapping_periods(model, partition_by, valid_from='valid_from', valid_to='valid_to') %}
with periods as (
    select
        {{ partition_by | join(', ') }},
        {{ valid_from }} as period_start,
        {{ valid_to }} as period_end,
        lead({{ valid_from }}) over (
            partition by {{ partition_by | join(', ') }} order by {{ valid_from }}
        ) as next_start
    from {{ model }}
)

select *
from periods
where period_end <= period_start or next_start < period_end
{% endtest %}
