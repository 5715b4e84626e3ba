-- One row per raw transactions row, typed, with the first contract rule it breaks.
with

source as (
    select * from {{ raw_table('transactions', announce=true) }}
),

customers as (
    select customer_id from {{ ref('base_raw__customers') }}
    where rejection_reason is null
),

currencies as (
    select currency from {{ ref('stg_reference__exchange_rates') }}
),

typed as (
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
        end as row_rejection_reason,
        to_json(source) as raw_row
    from source
),

deduplicated as (
    {{ reject_duplicate_keys('typed', 'transaction_id', 'transacted_at, raw_row') }}
),

valid_purchases as (
    select transaction_id from deduplicated
    where row_rejection_reason is null and transaction_type = 'purchase'
),

final as (
    select
        deduplicated.* exclude (deduplicated.row_rejection_reason),
        coalesce(
            deduplicated.row_rejection_reason,
            case
                when customers.customer_id is null then 'orphan_reference'
                when deduplicated.refunded_transaction_id is not null
                    and valid_purchases.transaction_id is null
                    then 'orphan_reference'
            end
        ) as rejection_reason
    from deduplicated
    left join customers
        on deduplicated.customer_id = customers.customer_id
    left join valid_purchases
        on deduplicated.refunded_transaction_id = valid_purchases.transaction_id
)

select * from final
