{{ config(materialized='table_in_passes') }}
-- The CLV subject, one row per customer known on as_of_date, prospects included (counts and
-- values 0, clv_status prospect): docs/measures.md, "Customer lifetime value (CLV)".
with

customers as (
    select * from {{ ref('int_customers_filtered') }}
    where {{ in_customer_pass('customer_id') }}
),

rfm as (
    select * from {{ ref('int_customers_rfm_summarised') }}
    where {{ in_customer_pass('customer_id') }}
),

purchase_days as (
    select * from {{ ref('int_purchase_days_aggregated') }}
    where {{ in_customer_pass('customer_id') }}
),

margins as (
    select * from {{ ref('int_customers_margin_summarised') }}
    where {{ in_customer_pass('customer_id') }}
),

clv as (
    select * from {{ ref('int_customers_clv_predicted') }}
    where {{ in_customer_pass('customer_id') }}
),

settings as (
    select * from {{ ref('int_analysis_settings') }}
),

segment_settings as (
    select * from {{ ref('int_segment_settings') }}
),

-- The recent window of the segments: the last light_buyer_window_months up to as_of_date.
recent_window as (
    select
        cast(
            settings.as_of_cutoff_at - {{ months_interval('segment_settings.light_buyer_window_months') }} as date
        ) as window_starts_on
    from settings
    cross join segment_settings
),

recent_spend as (
    select
        purchase_days.customer_id,
        sum(purchase_days.net_amount) as recent_net_revenue
    from purchase_days
    cross join recent_window
    where purchase_days.purchase_day >= recent_window.window_starts_on
    group by purchase_days.customer_id
),

final as (
    select
        customers.customer_id,
        rfm.customer_id is null as is_prospect,
        rfm.first_purchase_on,
        rfm.last_purchase_on,
        coalesce(rfm.purchase_day_count, 0) as purchase_day_count,
        rfm.frequency,
        rfm.recency_weeks,
        rfm.t_weeks,
        rfm.monetary_value,
        coalesce(margins.net_revenue_to_date, 0) as net_revenue_to_date,
        coalesce(margins.historical_clv, 0) as historical_clv,
        coalesce(margins.refund_count, 0) as refund_count,
        coalesce(recent_spend.recent_net_revenue, 0) as recent_net_revenue,
        coalesce(rfm.last_purchase_on >= recent_window.window_starts_on, false) as has_bought_in_window,
        clv.probability_alive,
        clv.expected_purchases,
        clv.expected_spend,
        case when rfm.customer_id is null then 0 else clv.predicted_clv end as predicted_clv,
        clv.predicted_clv_if_alive,
        case when rfm.customer_id is null then 0 else clv.predicted_clv_low end as predicted_clv_low,
        case when rfm.customer_id is null then 0 else clv.predicted_clv_high end as predicted_clv_high,
        case
            when rfm.customer_id is null then 'prospect'
            when clv.predicted_clv is null then 'not_fitted'
            else 'predicted'
        end as clv_status,
        case
            when rfm.customer_id is null then 'Never bought: no purchase process to model, predicted CLV is 0.'
            else clv.clv_prediction_reason
        end as clv_note
    from customers
    cross join recent_window
    left join rfm
        on customers.customer_id = rfm.customer_id
    left join margins
        on customers.customer_id = margins.customer_id
    left join recent_spend
        on customers.customer_id = recent_spend.customer_id
    left join clv
        on customers.customer_id = clv.customer_id
)

select * from final
