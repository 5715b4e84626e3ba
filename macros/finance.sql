{#- Money over time. Past flows count at face value; a flow m months after as_of_date is
    discounted by the factor of month m in int_discount_factors_computed (computed by
    customer_value.clv.discount_factors, the same function predicted CLV uses). -#}

{% macro months_between(start_at, end_at) -%}
    ({{ day_diff(start_at, end_at) }} / (cast(365.25 as double) / 12))
{%- endmacro %}

{% macro discounted_list_sum(monthly_values, first_months, discount_factors) -%}
    {#- Present value of the first `first_months` entries of a list of monthly values:
        entry m (1-based) times entry m of the list `discount_factors`; 0 when there is
        none. Added in month order from 0 on both engines (the same bits). -#}
    {{ return(adapter.dispatch('discounted_list_sum', 'customer_value')(monthly_values, first_months, discount_factors)) }}
{%- endmacro %}

{% macro duckdb__discounted_list_sum(monthly_values, first_months, discount_factors) -%}
    coalesce(list_sum(list_transform(
        range(1, cast(least(len({{ monthly_values }}), {{ first_months }}) as bigint) + 1),
        lambda month: {{ monthly_values }}[month] * {{ discount_factors }}[month]
    )), 0)
{%- endmacro %}

{% macro spark__discounted_list_sum(monthly_values, first_months, discount_factors) -%}
    {#- Spark's arrays: element_at is 1-based, try_element_at is NULL past the end (as a
        DuckDB list index), sequence(1, 0) counts down, so no month is guarded apart;
        a NULL product is left out as list_sum leaves it out. -#}
    {%- set months = 'cast(least(size(' ~ monthly_values ~ '), ' ~ first_months ~ ') as int)' -%}
    case when {{ months }} >= 1 then aggregate(
        sequence(1, {{ months }}),
        cast(0 as double),
        (total, month) -> total + coalesce(
            try_element_at({{ monthly_values }}, month) * try_element_at({{ discount_factors }}, month), 0
        )
    ) else 0 end
{%- endmacro %}

{% macro money(amount) -%}
    {#- The one money type of the marts: DECIMAL(18, 2) in the reporting currency,
        rounded as DuckDB rounds a DOUBLE (macro double_to_money; a DECIMAL amount in
        cents is exact either way). -#}
    {{ double_to_money(amount) }}
{%- endmacro %}

{% macro built_at() -%}
    {#- When the dbt invocation that built a mart started (UTC). -#}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp)
{%- endmacro %}
