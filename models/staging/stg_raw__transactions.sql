-- Post-hooks: stop when the required transactions lost (nearly) every row, and check a
-- set as_of_date against the staged transactions (not before the first).
{{ config(materialized='table', post_hook=[
    "{{ check_required_table_kept('transactions') }}",
    "{{ check_as_of_date_in_data() }}",
]) }}

with

transactions as (
    select * from {{ ref('base_raw__transactions') }}
    where rejection_reason is null
),

final as (
    select
        transactions.transaction_id,
        transactions.customer_id,
        transactions.transacted_at,
        transactions.transaction_type,
        transactions.transaction_type = 'refund' as is_refund,
        transactions.product_category,
        transactions.refunded_transaction_id,
        transactions.currency as original_currency,
        transactions.amount as original_amount,
        transactions.cost as original_cost
    from transactions
)

select * from final
