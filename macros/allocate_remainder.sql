{#
    allocate_remainder: a report bucket's share of what per-request events leave unexplained for
    `column`, in whole units: remaining_<column> split across the buckets of one coverage key in
    proportion to each bucket's <column>, the rounding residue going to the largest bucket, so
    the shares add up exactly to the remainder.
#}
{% macro allocate_remainder(column, partition_by) -%}
    coalesce(
        cast(remaining_{{ column }} as hugeint) * {{ column }} // nullif(report_{{ column }}, 0), 0
    )
    + case
        when row_number() over (partition by {{ partition_by }} order by {{ column }} desc, bucket_id) = 1
            then remaining_{{ column }} - coalesce(sum(
                cast(remaining_{{ column }} as hugeint) * {{ column }} // nullif(report_{{ column }}, 0)
            ) over (partition by {{ partition_by }}), 0)
        else 0
    end
{%- endmacro %}
