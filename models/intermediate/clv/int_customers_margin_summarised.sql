-- Historical CLV: per customer with transactions up to as_of_date, the revenue net of
-- refunds and the contribution margin earned (revenue - cost - refunds), at face value.
-- Refunds carry their purchase's own cost (int_transactions_costed), so a fully
-- refunded purchase contributes nothing.
with

transactions as (
    select * from {{ ref('int_transactions_costed') }}
),

final as (
    select
        customer_id,
        sum(amount) as net_revenue_to_date,
        sum(margin) as historical_clv,
        count(*) filter (where is_refund) as refund_count
    from transactions
    group by customer_id
)

select * from final
