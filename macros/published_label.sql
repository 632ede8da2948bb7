{#
    published_label: a free-text label published only when it is one of the allowed values,
    else 'other' (a source can put anything, an email included, in such a field).
#}
{% macro published_label(expression, allowed) -%}
    case
        when {{ expression }} in ({% for value in allowed %}'{{ value }}'{% if not loop.last %}, {% endif %}{% endfor %})
            then {{ expression }}
        else 'other'
    end
{%- endmacro %}
