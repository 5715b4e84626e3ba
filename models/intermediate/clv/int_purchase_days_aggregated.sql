-- One row per customer and purchase day, net of refunds (data after as_of_date is left out
-- upstream): docs/measures.md, "Customer lifetime value (CLV)", the purchase summary.
with

transactions as (
    select * from {{ ref('int_transactions_costed') }}
),

purchase_days as (
    select
        transaction_id,
        transacted_on
    from transactions
    where not is_refund
),

attributed as (
    select
        transactions.customer_id,
        transactions.amount,
        transactions.margin,
        not transactions.is_refund as is_purchase,
        coalesce(purchase_days.transacted_on, transactions.transacted_on) as purchase_day
    from transactions
    left join purchase_days
        on transactions.refunded_transaction_id = purchase_days.transaction_id
),

daily as (
    select
        customer_id,
        purchase_day,
        count(*) filter (where is_purchase) as purchase_count,
        sum(amount) as net_amount,
        sum(margin) as net_margin
    from attributed
    group by customer_id, purchase_day
),

final as (
    select
        customer_id,
        purchase_day,
        purchase_count,
        net_amount,
        net_margin
    from daily
    where purchase_count > 0 and net_amount > 0
)

select * from final
