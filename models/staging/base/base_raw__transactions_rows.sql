{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ restage_single_file('transactions') }}",
) }}
-- Every raw transactions row staged so far, typed, with the first row rule it breaks (or
-- duplicate_id) and the column that breaks it, decided when its file is staged. When the
-- table is a folder of files, a build reads only the files not staged yet (a duplicate of
-- a row staged before is still a duplicate); a table exported as one file is staged again
-- whole by every build (restage_single_file). --full-refresh stages every file again.
-- Orphan references are checked in base_raw__transactions against the customers of each
-- build.
with

source as {{ not_materialized() }} (
    select * from {{ raw_rows('transactions', announce=true, only_new=is_incremental()) }}
),

currencies as (
    select currency from {{ ref('stg_reference__exchange_rates') }}
),

typed as {{ not_materialized() }} (
    select
        {{ clean_text('transaction_id') }} as transaction_id,
        {{ clean_text('customer_id') }} as customer_id,
        {{ raw_timestamp('transacted_at', 'transactions') }} as transacted_at,
        {{ clean_enum('transaction_type') }} as transaction_type,
        try_cast(amount as decimal(18, 2)) as amount,
        try_cast(cost as decimal(18, 2)) as cost,
        upper({{ clean_text('currency') }}) as currency,
        {{ clean_enum('product_category') }} as product_category,
        {{ clean_text('refunded_transaction_id') }} as refunded_transaction_id,
        transacted_at as raw_transacted_at,
        amount as raw_amount,
        cost as raw_cost,
        raw_file,
        raw_file_row
    from source
),

checked as {{ not_materialized() }} (
    select
        typed.* {{ star_exclude() }} (typed.raw_transacted_at, typed.raw_amount, typed.raw_cost),
        {{ first_broken_rule([
            ['missing_id', 'transaction_id', 'typed.transaction_id is null'],
            ['missing_id', 'customer_id', 'typed.customer_id is null'],
            ['missing_value', 'transacted_at', 'typed.raw_transacted_at is null'],
            ['missing_value', 'transaction_type', 'typed.transaction_type is null'],
            ['missing_value', 'amount', 'typed.raw_amount is null'],
            ['missing_value', 'currency', 'typed.currency is null'],
            ['malformed_timestamp', 'transacted_at', is_unreadable('typed.raw_transacted_at', 'typed.transacted_at')],
            ['malformed_value', 'amount', is_unreadable('typed.raw_amount', 'typed.amount')],
            ['malformed_value', 'cost', is_unreadable('typed.raw_cost', 'typed.cost')],
            ['unknown_type', 'transaction_type', 'not ' ~ in_contract_values('typed.transaction_type', 'transaction_type')],
            ['unknown_currency', 'currency', 'typed.currency not in (select currencies.currency from currencies)'],
            ['out_of_range', 'amount', "(typed.transaction_type = 'purchase' and typed.amount <= 0)"
                ~ " or (typed.transaction_type = 'refund' and typed.amount >= 0)"],
            ['out_of_range', 'cost', "(typed.transaction_type = 'purchase' and typed.cost < 0)"
                ~ " or (typed.transaction_type = 'refund' and typed.cost > 0)"],
            ['future_timestamp', 'transacted_at', 'typed.transacted_at > ' ~ run_started_timestamp()],
        ]) }} as row_rejection
    from typed
),

{{ reject_duplicate_keys('checked', ['transaction_id'], prior=this if is_incremental() else none) }}

select * from deduplicated
