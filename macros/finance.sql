{#- Money over time, one convention everywhere: an annual rate compounded monthly,
    i.e. a flow m months after as_of_date is worth (1 + rate) ^ (-m / 12) at as_of_date,
    and a flow m months before it (1 + rate) ^ (m / 12). -#}

{% macro months_between(start_at, end_at) -%}
    (date_diff('day', {{ start_at }}, {{ end_at }}) / (365.25 / 12))
{%- endmacro %}

{% macro value_at_as_of(amount, occurred_at, as_of_date, annual_rate) -%}
    ({{ amount }} * power(1 + {{ annual_rate }}, {{ months_between(occurred_at, as_of_date) }} / 12))
{%- endmacro %}

{% macro discounted_list_sum(monthly_values, first_months, annual_rate) -%}
    {#- Present value of the first `first_months` entries of a list of monthly values,
        entry m (1-based) discounted by m months. -#}
    coalesce(list_sum(list_transform(
        range(1, cast(least(len({{ monthly_values }}), {{ first_months }}) as bigint) + 1),
        lambda month: {{ monthly_values }}[month] * power(1 + {{ annual_rate }}, -month / 12)
    )), 0)
{%- endmacro %}
