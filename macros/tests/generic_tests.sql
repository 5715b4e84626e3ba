{#- Generic data tests dbt-core does not ship (in the spirit of dbt_utils, which
    cannot be installed here). Each returns the failing rows. -#}

{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}
    {#- Non-null values of column_name lie in [min_value, max_value]. -#}
    select *
    from {{ model }}
    where {{ column_name }} is not null
        and (
            false
            {%- if min_value is not none %}
            or {{ column_name }} {{ '<' if inclusive else '<=' }} {{ min_value }}
            {%- endif %}
            {%- if max_value is not none %}
            or {{ column_name }} {{ '>' if inclusive else '>=' }} {{ max_value }}
            {%- endif %}
        )
{% endtest %}

{% test expression_is_true(model, expression) %}
    {#- Every row satisfies the SQL boolean expression. -#}
    select *
    from {{ model }}
    where not coalesce(({{ expression }}), false)
{% endtest %}

{% test unique_combination_of_columns(model, combination_of_columns) %}
    {#- No two rows share the same values in all of the given columns. -#}
    select
        {{ combination_of_columns | join(', ') }},
        count(*) as row_count
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1
{% endtest %}

{% macro duckdb__test_unique(model, column_name) %}
    {#- dbt's `unique` test, same failing rows (each repeated value and its count), found
        without aggregating every value: values whose 64-bit hash repeats are found by
        sorting the hashes, and only those values are counted (a hash collision of two
        different values is counted and passes). On tens of millions of rows this is about
        half the time of a group by over every value. -#}
    with

    repeated_key_hashes as (
        {{ repeated_key_hashes(model, column_name, column_name ~ ' is not null') }}
    )

    select
        {{ column_name }} as unique_field,
        count(*) as n_records
    from {{ model }}
    where {{ column_name }} is not null
        and hash({{ column_name }}) in (select key_hash from repeated_key_hashes)
    group by {{ column_name }}
    having count(*) > 1
{% endmacro %}
