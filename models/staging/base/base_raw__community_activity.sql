-- One row per raw community_activity row, typed, with the first contract rule it breaks.
with

source as (
    select * from {{ raw_table('community_activity', announce=true) }}
),

customers as (
    select customer_id from {{ ref('base_raw__customers') }}
    where rejection_reason is null
),

typed as (
    select
        {{ clean_text('activity_id') }} as activity_id,
        {{ clean_text('customer_id') }} as customer_id,
        {{ clean_enum('activity_type') }} as activity_type,
        {{ clean_enum('product_category') }} as product_category,
        try_cast(occurred_at as timestamp) as occurred_at,
        try_cast(helpful_votes as integer) as helpful_votes,
        try_cast(rating as integer) as rating,
        case
            when {{ is_blank('activity_id') }} or {{ is_blank('customer_id') }} then 'missing_id'
            when {{ is_blank('activity_type') }} or occurred_at is null then 'missing_value'
            when {{ is_malformed('occurred_at', 'timestamp') }} then 'malformed_timestamp'
            when {{ is_malformed('helpful_votes', 'integer') }} or {{ is_malformed('rating', 'integer') }}
                then 'malformed_value'
            when not {{ in_contract_values(clean_enum('activity_type'), 'activity_type') }} then 'unknown_type'
            when try_cast(helpful_votes as integer) < 0
                or try_cast(rating as integer) not between 1 and 5
                then 'out_of_range'
            when try_cast(occurred_at as timestamp) > {{ run_started_timestamp() }} then 'future_timestamp'
        end as row_rejection_reason,
        to_json(source) as raw_row
    from source
),

deduplicated as (
    {{ reject_duplicate_keys('typed', 'activity_id', 'occurred_at, raw_row') }}
),

final as (
    select
        deduplicated.* exclude (deduplicated.row_rejection_reason),
        coalesce(
            deduplicated.row_rejection_reason,
            case when customers.customer_id is null then 'orphan_reference' end
        ) as rejection_reason
    from deduplicated
    left join customers
        on deduplicated.customer_id = customers.customer_id
)

select * from final
