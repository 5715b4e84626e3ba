-- The standard BG/NBD / Gamma-Gamma summary, one row per customer with at least one
-- purchase day up to as_of_date (docs/measures.md):
--   frequency = distinct purchase days - 1
--   recency   = days from first to last purchase day / 7
--   T         = days from first purchase day to as_of_date / 7
--   monetary  = mean net amount of the repeat purchase days (first day left out)
with

purchase_days as (
    select * from {{ ref('int_purchase_days_aggregated') }}
),

settings as (
    select * from {{ ref('int_analysis_settings') }}
),

ordered as (
    select
        *,
        row_number() over (partition by customer_id order by purchase_day) as day_number
    from purchase_days
),

per_customer as (
    select
        customer_id,
        min(purchase_day) as first_purchase_on,
        max(purchase_day) as last_purchase_on,
        count(*) as purchase_day_count,
        sum(net_amount) as net_revenue,
        sum(net_margin) as net_margin,
        avg(net_amount) filter (where day_number > 1) as repeat_day_mean_amount
    from ordered
    group by customer_id
),

final as (
    select
        per_customer.customer_id,
        per_customer.first_purchase_on,
        per_customer.last_purchase_on,
        per_customer.purchase_day_count,
        per_customer.purchase_day_count - 1 as frequency,
        date_diff('day', per_customer.first_purchase_on, per_customer.last_purchase_on) / 7.0 as recency_weeks,
        date_diff('day', per_customer.first_purchase_on, settings.as_of_date) / 7.0 as t_weeks,
        cast(per_customer.repeat_day_mean_amount as double) as monetary_value,
        per_customer.net_revenue,
        per_customer.net_margin,
        case
            when per_customer.net_revenue > 0
                then cast(per_customer.net_margin / per_customer.net_revenue as double)
            else settings.default_margin_rate
        end as margin_rate
    from per_customer
    cross join settings
)

select * from final
