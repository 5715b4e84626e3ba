{#- Sums of DOUBLE values that give the same bits on every build. DuckDB adds the values
    of a group in whatever order its threads reach them, and floating-point addition is
    not associative: with more than one thread, sum() over DOUBLE can differ between two
    builds of the same files in the last digits. These add the values of each group in
    the order of `order_by` (a key that is unique within the group), one after the other.
    `where`: the aggregate's filter clause. DECIMAL money and integer counts need none of
    this: their sums are exact.
    Spark has no ordered aggregates: the values (NULLs left out, as sum() leaves them
    out) are collected with their order key, sorted, and added one after the other from
    0 with aggregate(), the same additions in the same order as DuckDB's, so the same
    bits; NULL when there is no value, as sum() and avg() give. -#}

{% macro ordered_sum(expression, order_by, where=none) -%}
    {{ return(adapter.dispatch('ordered_sum', 'customer_value')(expression, order_by, where)) }}
{%- endmacro %}

{% macro duckdb__ordered_sum(expression, order_by, where=none) -%}
    sum({{ expression }} order by {{ order_by }}){{ aggregate_filter(where) }}
{%- endmacro %}

{% macro spark__ordered_sum(expression, order_by, where=none) -%}
    {%- set kept = '(' ~ expression ~ ') is not null' ~ ((' and (' ~ where ~ ')') if where is not none else '') -%}
    case when count(*) filter (where {{ kept }}) > 0 then aggregate(
        array_sort(collect_list(struct({{ order_by }}, cast({{ expression }} as double) as ordered_value)) filter (where {{ kept }})),
        cast(0 as double),
        (total, entry) -> total + entry.ordered_value
    ) end
{%- endmacro %}

{% macro ordered_avg(expression, order_by, where=none) -%}
    {{ return(adapter.dispatch('ordered_avg', 'customer_value')(expression, order_by, where)) }}
{%- endmacro %}

{% macro duckdb__ordered_avg(expression, order_by, where=none) -%}
    avg({{ expression }} order by {{ order_by }}){{ aggregate_filter(where) }}
{%- endmacro %}

{% macro spark__ordered_avg(expression, order_by, where=none) -%}
    {%- set kept = '(' ~ expression ~ ') is not null' ~ ((' and (' ~ where ~ ')') if where is not none else '') -%}
    ({{ spark__ordered_sum(expression, order_by, where) }} / count(*) filter (where {{ kept }}))
{%- endmacro %}

{% macro aggregate_filter(where) -%}
    {%- if where is not none %} filter (where {{ where }}){% endif -%}
{%- endmacro %}
