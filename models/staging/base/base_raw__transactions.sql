{{ config(materialized='view') }}
-- One row per raw transactions row, typed, with the first contract rule it breaks: the
-- rows staged file by file (base_raw__transactions_rows), references checked against this
-- build's valid customers, and a refund's purchase among the valid purchases.
with

transactions as not materialized (
    select * from {{ ref('base_raw__transactions_rows') }}
),

customers as (
    select customer_id from {{ ref('base_raw__customers') }}
    where rejection_reason is null
),

-- The valid purchases that a refund refers to: the refunds' ids are the small side of the
-- lookup (a hash table of every purchase id would not fit the memory limit at scale).
valid_purchases as (
    select transaction_id from transactions
    where row_rejection_reason is null
        and transaction_type = 'purchase'
        and transaction_id in (
            select refunds.refunded_transaction_id from transactions as refunds
            where refunds.refunded_transaction_id is not null
        )
),

final as (
    {{ reject_orphan_references('transactions', [
        ['customer_id', 'customers', 'customer_id'],
        ['refunded_transaction_id', 'valid_purchases', 'transaction_id'],
    ]) }}
)

select * from final
