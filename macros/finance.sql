{#- Money over time. Past flows count at face value; a flow m months after as_of_date is
    discounted by the factor of month m in int_discount_factors_computed (computed by
    customer_value.clv.discount_factors, the same function predicted CLV uses). -#}

{% macro months_between(start_at, end_at) -%}
    ({{ day_diff(start_at, end_at) }} / (cast(365.25 as double) / 12))
{%- endmacro %}

{% macro discounted_list_sum(monthly_values, first_months, discount_factors) -%}
    {#- Present value of the first `first_months` entries of a list of monthly values:
        entry m (1-based) times entry m of the list `discount_factors`. -#}
    coalesce(list_sum(list_transform(
        range(1, cast(least(len({{ monthly_values }}), {{ first_months }}) as bigint) + 1),
        lambda month: {{ monthly_values }}[month] * {{ discount_factors }}[month]
    )), 0)
{%- endmacro %}

{% macro money(amount) -%}
    {#- The one money type of the marts: DECIMAL(18, 2) in the reporting currency. -#}
    cast({{ amount }} as decimal(18, 2))
{%- endmacro %}

{% macro built_at() -%}
    {#- When the dbt invocation that built a mart started (UTC). -#}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp)
{%- endmacro %}
