{#- Sums of DOUBLE values that give the same bits on every build. DuckDB adds the values
    of a group in whatever order its threads reach them, and floating-point addition is
    not associative: with more than one thread, sum() over DOUBLE can differ between two
    builds of the same files in the last digits. These add the values of each group in
    the order of `order_by` (a key that is unique within the group), one after the other.
    `where`: the aggregate's filter clause. DECIMAL money and integer counts need none of
    this: their sums are exact. -#}

{% macro ordered_sum(expression, order_by, where=none) -%}
    sum({{ expression }} order by {{ order_by }}){{ aggregate_filter(where) }}
{%- endmacro %}

{% macro ordered_avg(expression, order_by, where=none) -%}
    avg({{ expression }} order by {{ order_by }}){{ aggregate_filter(where) }}
{%- endmacro %}

{% macro aggregate_filter(where) -%}
    {%- if where is not none %} filter (where {{ where }}){% endif -%}
{%- endmacro %}
