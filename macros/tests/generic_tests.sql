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
