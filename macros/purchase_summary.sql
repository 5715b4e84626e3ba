{% macro purchase_summary(purchase_days, ends_on) -%}
    {#- The standard BG/NBD / Gamma-Gamma summary (docs/measures.md), one row per customer
        of `purchase_days` (a relation of customer_id, purchase_day, net_amount,
        net_margin: one row per purchase day) observed up to the day `ends_on` (a column or
        expression every row shares):
          frequency = distinct purchase days - 1
          recency   = days from the first to the last purchase day / 7
          T         = days from the first purchase day to ends_on / 7
          monetary  = mean net amount of the repeat purchase days (the first left out)
        The one home of these definitions: the summary at as_of_date
        (int_customers_rfm_summarised) and at the end of the calibration period
        (int_customers_holdout_summarised) both come from here. -#}
    select
        customer_id,
        min(purchase_day) as first_purchase_on,
        max(purchase_day) as last_purchase_on,
        count(*) as purchase_day_count,
        count(*) - 1 as frequency,
        {{ day_diff('min(purchase_day)', 'max(purchase_day)') }} / 7 as recency_weeks,
        {{ day_diff('min(purchase_day)', 'any_value(' ~ ends_on ~ ')') }} / 7 as t_weeks,
        {{ money_avg('net_amount', where='day_number > 1') }} as monetary_value,
        sum(net_amount) as net_revenue,
        sum(net_margin) as net_margin
    from (
        select
            *,
            row_number() over (partition by customer_id order by purchase_day) as day_number
        from {{ purchase_days }}
    )
    group by customer_id
{%- endmacro %}
