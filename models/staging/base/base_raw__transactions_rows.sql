{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ restage_single_file('transactions') }}",
) }}
-- Every raw transactions row staged so far, typed, with the first row rule it breaks or
-- duplicate_id, decided when its file is staged. When the table is a folder of files, a
-- build reads only the files not staged yet (a duplicate of a row staged before is still a
-- duplicate); a table exported as one file is staged again whole by every build
-- (restage_single_file). --full-refresh stages every file again. Orphan references are
-- checked in base_raw__transactions against the customers of each build.
with

source as not materialized (
    select * from {{ raw_rows('transactions', announce=true, only_new=is_incremental()) }}
),

currencies as (
    select currency from {{ ref('stg_reference__exchange_rates') }}
),

typed as not materialized (
    select
        {{ clean_text('source.transaction_id') }} as transaction_id,
        {{ clean_text('source.customer_id') }} as customer_id,
        try_cast(source.transacted_at as timestamp) as transacted_at,
        {{ clean_enum('source.transaction_type') }} as transaction_type,
        try_cast(source.amount as decimal(18, 2)) as amount,
        try_cast(source.cost as decimal(18, 2)) as cost,
        upper({{ clean_text('source.currency') }}) as currency,
        {{ clean_enum('source.product_category') }} as product_category,
        {{ clean_text('source.refunded_transaction_id') }} as refunded_transaction_id,
        source.raw_file,
        source.raw_file_row,
        case
            when {{ is_blank('source.transaction_id') }} or {{ is_blank('source.customer_id') }} then 'missing_id'
            when source.transacted_at is null
                or {{ is_blank('source.transaction_type') }}
                or source.amount is null
                or {{ is_blank('source.currency') }}
                then 'missing_value'
            when {{ is_malformed('source.transacted_at', 'timestamp') }} then 'malformed_timestamp'
            when {{ is_malformed('source.amount', 'decimal(18, 2)') }}
                or {{ is_malformed('source.cost', 'decimal(18, 2)') }}
                then 'malformed_value'
            when not {{ in_contract_values(clean_enum('source.transaction_type'), 'transaction_type') }}
                then 'unknown_type'
            when upper({{ clean_text('source.currency') }}) not in (select currencies.currency from currencies)
                then 'unknown_currency'
            when (
                {{ clean_enum('source.transaction_type') }} = 'purchase'
                and (try_cast(source.amount as decimal(18, 2)) <= 0 or try_cast(source.cost as decimal(18, 2)) < 0)
            )
            or (
                {{ clean_enum('source.transaction_type') }} = 'refund'
                and (try_cast(source.amount as decimal(18, 2)) >= 0 or try_cast(source.cost as decimal(18, 2)) > 0)
            )
                then 'out_of_range'
            when try_cast(source.transacted_at as timestamp) > {{ run_started_timestamp() }} then 'future_timestamp'
        end as row_rejection_reason
    from source
),

{{ reject_duplicate_keys('typed', ['transaction_id'], prior=this if is_incremental() else none) }}

select * from deduplicated
