-- One row per customer, prospects included: who they are (no personal data in clear
-- text) and what they are worth.
with

customers as (
    select * from {{ ref('stg_raw__customers') }}
),

transactions as (
    select * from {{ ref('int_transactions_costed') }}
),

rfm as (
    select * from {{ ref('int_customers_rfm_summarised') }}
),

settings as (
    select * from {{ ref('int_analysis_settings') }}
),

margin_to_date as (
    select
        customer_id,
        sum(amount) as net_revenue_to_date,
        sum(margin) as historical_clv
    from transactions
    group by customer_id
),

final as (
    select
        customers.customer_id,
        customers.email_sha256,
        customers.created_at,
        customers.acquisition_channel,
        customers.country,
        settings.as_of_date,
        settings.reporting_currency,
        rfm.customer_id is null as is_prospect,
        rfm.first_purchase_on,
        rfm.last_purchase_on,
        coalesce(rfm.purchase_day_count, 0) as purchase_day_count,
        rfm.frequency,
        rfm.recency_weeks,
        rfm.t_weeks,
        rfm.monetary_value,
        coalesce(margin_to_date.net_revenue_to_date, 0) as net_revenue_to_date,
        coalesce(margin_to_date.historical_clv, 0) as historical_clv
    from customers
    cross join settings
    left join rfm
        on customers.customer_id = rfm.customer_id
    left join margin_to_date
        on customers.customer_id = margin_to_date.customer_id
    where customers.created_at < settings.as_of_cutoff_at
)

select * from final
