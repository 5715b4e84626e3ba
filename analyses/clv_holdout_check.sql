-- Calibration / holdout check of the purchase model.
-- 1. Build with an as_of_date some months before the end of your data, e.g.
--      scripts/build.sh --vars '{as_of_date: 2025-06-30}'
-- 2. Compile and run this analysis against the same database:
--      dbt compile --select clv_holdout_check --vars '{as_of_date: 2025-06-30}'
--      then run target/compiled/customer_value/analyses/clv_holdout_check.sql in DuckDB.
-- It compares, per frequency bucket and in total, the purchase days the BG/NBD model
-- expected in the clv_horizon_months after as_of_date with those that happened, and
-- the net revenue BG/NBD x Gamma-Gamma expected (undiscounted) with what was spent.
with

summary as (
    select * from {{ ref('int_customers_rfm_summarised') }}
),

predictions as (
    select * from {{ ref('int_customers_clv_predicted') }}
),

transactions as (
    select
        stg_transactions.*,
        cast(stg_transactions.original_amount * rates.to_reporting_rate as decimal(18, 2)) as amount
    from {{ ref('stg_raw__transactions') }} as stg_transactions
    inner join {{ ref('int_exchange_rates_resolved') }} as rates
        on stg_transactions.original_currency = rates.currency
),

settings as (
    select * from {{ ref('int_analysis_settings') }}
),

holdout_days as (
    select
        transactions.customer_id,
        count(distinct cast(transactions.transacted_at as date)) filter (
            where not transactions.is_refund
        ) as actual_purchase_days,
        sum(transactions.amount) as actual_revenue
    from transactions
    cross join settings
    where transactions.transacted_at >= settings.as_of_cutoff_at
        and transactions.transacted_at < settings.as_of_cutoff_at + to_months(settings.clv_horizon_months)
    group by transactions.customer_id
),

per_customer as (
    select
        case when summary.frequency >= 7 then '7+' else cast(summary.frequency as varchar) end as frequency_bucket,
        predictions.expected_purchases,
        list_sum(predictions.expected_margin_by_month[1:settings.clv_horizon_months])
        / nullif(predictions.margin_rate, 0) as expected_revenue,
        coalesce(holdout_days.actual_purchase_days, 0) as actual_purchase_days,
        coalesce(holdout_days.actual_revenue, 0) as actual_revenue
    from summary
    cross join settings
    inner join predictions
        on summary.customer_id = predictions.customer_id
    left join holdout_days
        on summary.customer_id = holdout_days.customer_id
),

final as (
    select
        coalesce(frequency_bucket, 'total') as frequency_bucket,
        count(*) as customers,
        round(avg(expected_purchases), 3) as mean_expected_purchase_days,
        round(avg(actual_purchase_days), 3) as mean_actual_purchase_days,
        round(sum(expected_purchases), 1) as expected_purchase_days,
        sum(actual_purchase_days) as actual_purchase_days,
        round(sum(expected_purchases) / nullif(sum(actual_purchase_days), 0) - 1, 3) as relative_error,
        round(sum(expected_revenue), 0) as expected_revenue,
        round(sum(actual_revenue), 0) as actual_revenue,
        round(sum(expected_revenue) / nullif(sum(actual_revenue), 0) - 1, 3) as revenue_relative_error
    from per_customer
    group by rollup(frequency_bucket)
)

select * from final
order by frequency_bucket = 'total', frequency_bucket
