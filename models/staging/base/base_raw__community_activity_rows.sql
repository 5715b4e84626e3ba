{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ restage_single_file('community_activity') }}",
) }}
-- Every raw community_activity row staged so far, typed, with the first row rule it breaks
-- (or duplicate_id) and the column that breaks it, decided when its file is staged. When
-- the table is a folder of files, a build reads only the files not staged yet (a duplicate
-- of a row staged before is still a duplicate); a table exported as one file is staged
-- again whole by every build (restage_single_file). --full-refresh stages every file
-- again. Orphan references are checked in base_raw__community_activity against the
-- customers of each build.
with

source as {{ not_materialized() }} (
    select * from {{ raw_rows('community_activity', announce=true, only_new=is_incremental()) }}
),

typed as {{ not_materialized() }} (
    select
        {{ clean_text('activity_id') }} as activity_id,
        {{ clean_text('customer_id') }} as customer_id,
        {{ clean_enum('activity_type') }} as activity_type,
        {{ clean_enum('product_category') }} as product_category,
        {{ raw_timestamp('occurred_at', 'community_activity') }} as occurred_at,
        try_cast(helpful_votes as integer) as helpful_votes,
        try_cast(rating as integer) as rating,
        occurred_at as raw_occurred_at,
        helpful_votes as raw_helpful_votes,
        rating as raw_rating,
        raw_file,
        raw_file_row
    from source
),

checked as {{ not_materialized() }} (
    select
        * {{ star_exclude() }} (raw_occurred_at, raw_helpful_votes, raw_rating),
        {{ first_broken_rule([
            ['missing_id', 'activity_id', 'activity_id is null'],
            ['missing_id', 'customer_id', 'customer_id is null'],
            ['missing_value', 'activity_type', 'activity_type is null'],
            ['missing_value', 'occurred_at', 'raw_occurred_at is null'],
            ['malformed_timestamp', 'occurred_at', is_unreadable('raw_occurred_at', 'occurred_at')],
            ['malformed_value', 'helpful_votes', is_unreadable('raw_helpful_votes', 'helpful_votes')],
            ['malformed_value', 'rating', is_unreadable('raw_rating', 'rating')],
            ['unknown_type', 'activity_type', 'not ' ~ in_contract_values('activity_type', 'activity_type')],
            ['out_of_range', 'helpful_votes', 'helpful_votes < 0'],
            ['out_of_range', 'rating', 'rating not between 1 and 5'],
            ['future_timestamp', 'occurred_at', 'occurred_at > ' ~ run_started_timestamp()],
        ]) }} as row_rejection
    from typed
),

{{ reject_duplicate_keys('checked', ['activity_id'], prior=this if is_incremental() else none) }}

select * from deduplicated
