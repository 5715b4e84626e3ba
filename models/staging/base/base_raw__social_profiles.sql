-- One row per raw social_profiles row, typed, with the first contract rule it breaks.
-- The key is (customer_id, network); an older observation of the same key is a duplicate
-- (of two observations at the same time, the later in the file).
with

source as not materialized (
    select * from {{ raw_rows('social_profiles', announce=true) }}
),

customers as (
    select customer_id from {{ ref('base_raw__customers') }}
    where rejection_reason is null
),

typed as not materialized (
    select
        {{ clean_text('customer_id') }} as customer_id,
        {{ clean_enum('network') }} as network,
        try_cast(followers as integer) as followers,
        try_cast(following as integer) as following,
        try_cast(posts_90d as integer) as posts_90d,
        try_cast(brand_mentions_90d as integer) as brand_mentions_90d,
        try_cast(is_public as boolean) as is_public,
        try_cast(observed_at as timestamp) as observed_at,
        raw_file,
        raw_file_row,
        case
            when {{ is_blank('customer_id') }} then 'missing_id'
            when {{ is_blank('network') }} or observed_at is null then 'missing_value'
            when {{ is_malformed('observed_at', 'timestamp') }} then 'malformed_timestamp'
            when {{ is_malformed('followers', 'integer') }}
                or {{ is_malformed('following', 'integer') }}
                or {{ is_malformed('posts_90d', 'integer') }}
                or {{ is_malformed('brand_mentions_90d', 'integer') }}
                or {{ is_malformed('is_public', 'boolean') }}
                then 'malformed_value'
            when not {{ in_contract_values(clean_enum('network'), 'network') }} then 'unknown_type'
            when try_cast(followers as integer) < 0
                or try_cast(following as integer) < 0
                or try_cast(posts_90d as integer) < 0
                or try_cast(brand_mentions_90d as integer) < 0
                then 'out_of_range'
            when try_cast(observed_at as timestamp) > {{ run_started_timestamp() }} then 'future_timestamp'
        end as row_rejection_reason
    from source
),

{{ reject_duplicate_keys('typed', ['customer_id', 'network'], 'observed_at desc, raw_file, raw_file_row') }},

final as (
    {{ reject_orphan_references('deduplicated', [['customer_id', 'customers', 'customer_id']]) }}
)

select * from final
