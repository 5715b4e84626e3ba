{#- Money over time, one convention everywhere (the same as customer_value.clv.predict):
    an annual rate compounded monthly, a flow m months after as_of_date is worth
    (1 + rate) ^ (-m / 12) at as_of_date. Past flows count at face value. -#}

{% macro months_between(start_at, end_at) -%}
    (date_diff('day', {{ start_at }}, {{ end_at }}) / (365.25 / 12))
{%- endmacro %}

{% macro discount_factor(months_ahead, annual_rate) -%}
    power(1 + {{ annual_rate }}, -({{ months_ahead }}) / 12)
{%- endmacro %}

{% macro discounted_list_sum(monthly_values, first_months, annual_rate) -%}
    {#- Present value of the first `first_months` entries of a list of monthly values,
        entry m (1-based) discounted by m months. -#}
    coalesce(list_sum(list_transform(
        range(1, cast(least(len({{ monthly_values }}), {{ first_months }}) as bigint) + 1),
        lambda month: {{ monthly_values }}[month] * {{ discount_factor('month', annual_rate) }}
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
