{{ config(materialized='view') }}
-- One row per raw transactions row, typed, with the first contract rule it breaks and the
-- column that breaks it: the rows staged file by file (base_raw__transactions_rows),
-- customers checked against this build's valid customers, a purchase whose refund was
-- rejected quarantined with it, and a refund's purchase among the purchases kept.
with

transactions as {{ not_materialized() }} (
    select * from {{ ref('base_raw__transactions_rows') }}
),

customers as (
    select customer_id from {{ ref('base_raw__customers') }}
    where rejection_reason is null
),

referenced as {{ not_materialized() }} (
    {{ reject_orphan_references('transactions', [['customer_id', 'customers', 'customer_id']]) }}
),

-- Rejected rows that reverse a purchase: a refund (or a row of another type that names a
-- purchase in refunded_transaction_id) rejected for any reason but duplicate_id (the first
-- copy of a duplicate is staged and reverses the purchase). The purchase it names must not
-- count as if it had not been reversed, so it is quarantined too (refund_rejected, naming
-- the refund: its id, or its file and row when it has none).
rejected_reversals as (
    select
        refunded_transaction_id,
        min(coalesce(transaction_id, raw_file || ' row ' || raw_file_row)) as reversal
    from referenced
    where rejection_reason is not null
        and rejection_reason != 'duplicate_id'
        and refunded_transaction_id is not null
        and transaction_type is distinct from 'purchase'
    group by refunded_transaction_id
),

reversals_checked as {{ not_materialized() }} (
    select
        referenced.* {{ star_exclude() }} (rejection_reason, rejected_column),
        coalesce(
            referenced.rejection_reason,
            case
                when referenced.transaction_type = 'purchase' and rejected_reversals.reversal is not null
                    then 'refund_rejected'
            end
        ) as rejection_reason,
        coalesce(
            referenced.rejected_column,
            case
                when referenced.transaction_type = 'purchase' and rejected_reversals.reversal is not null
                    then 'transaction_id'
            end
        ) as rejected_column,
        case
            when referenced.rejection_reason is null and referenced.transaction_type = 'purchase'
                then rejected_reversals.reversal
        end as rejected_value
    from referenced
    left join rejected_reversals
        on referenced.transaction_id = rejected_reversals.refunded_transaction_id
),

-- The purchases kept that a refund refers to: the refunds' ids are the small side of the
-- lookup (a hash table of every purchase id would not fit the memory limit at scale).
kept_purchases as (
    select transaction_id from reversals_checked
    where rejection_reason is null
        and transaction_type = 'purchase'
        and transaction_id in (
            select refunds.refunded_transaction_id from transactions as refunds
            where refunds.refunded_transaction_id is not null
        )
),

-- A refund whose purchase is not kept (missing, rejected, or quarantined above) is an
-- orphan reference.
final as (
    select
        reversals_checked.* {{ star_exclude() }} (rejection_reason, rejected_column),
        coalesce(
            reversals_checked.rejection_reason,
            case
                when reversals_checked.refunded_transaction_id is not null and kept_purchases.transaction_id is null
                    then 'orphan_reference'
            end
        ) as rejection_reason,
        coalesce(
            reversals_checked.rejected_column,
            case
                when reversals_checked.refunded_transaction_id is not null and kept_purchases.transaction_id is null
                    then 'refunded_transaction_id'
            end
        ) as rejected_column
    from reversals_checked
    left join kept_purchases
        on reversals_checked.refunded_transaction_id = kept_purchases.transaction_id
)

select * from final
