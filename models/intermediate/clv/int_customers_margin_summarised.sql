-- Historical CLV, one row per customer with transactions up to as_of_date:
-- docs/measures.md, "Customer lifetime value (CLV)".
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
