{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ restage_single_file('community_activity') }}",
) }}
-- Every raw community_activity row staged so far, typed, with the first row rule it breaks or
-- duplicate_id, decided when its file is staged. When the table is a folder of files, a
-- build reads only the files not staged yet (a duplicate of a row staged before is still a
-- duplicate); a table exported as one file is staged again whole by every build
-- (restage_single_file). --full-refresh stages every file again. Orphan references are
-- checked in base_raw__community_activity against the customers of each build.
with

source as not materialized (
    select * from {{ raw_rows('community_activity', announce=true, only_new=is_incremental()) }}
),

typed as not materialized (
    select
        {{ clean_text('activity_id') }} as activity_id,
        {{ clean_text('customer_id') }} as customer_id,
        {{ clean_enum('activity_type') }} as activity_type,
        {{ clean_enum('product_category') }} as product_category,
        try_cast(occurred_at as timestamp) as occurred_at,
        try_cast(helpful_votes as integer) as helpful_votes,
        try_cast(rating as integer) as rating,
        raw_file,
        raw_file_row,
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
        end as row_rejection_reason
    from source
),

{{ reject_duplicate_keys('typed', ['activity_id'], prior=this if is_incremental() else none) }}

select * from deduplicated
