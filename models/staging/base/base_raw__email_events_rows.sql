{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ restage_single_file('email_events') }}",
) }}
-- Every raw email_events row staged so far, typed, with the first row rule it breaks (or
-- duplicate_id) and the column that breaks it, decided when its file is staged. When the
-- table is a folder of files, a build reads only the files not staged yet (a duplicate of
-- a row staged before is still a duplicate); a table exported as one file is staged again
-- whole by every build (restage_single_file). --full-refresh stages every file again.
-- Orphan references are checked in base_raw__email_events against the customers of each
-- build.
with

source as {{ not_materialized() }} (
    select * from {{ raw_rows('email_events', announce=true, only_new=is_incremental()) }}
),

typed as {{ not_materialized() }} (
    select
        {{ clean_text('event_id') }} as event_id,
        {{ clean_text('customer_id') }} as customer_id,
        {{ clean_text('campaign_id') }} as campaign_id,
        {{ clean_enum('event_type') }} as event_type,
        {{ raw_timestamp('occurred_at', 'email_events') }} as occurred_at,
        try_cast(forward_recipients as integer) as forward_recipients,
        occurred_at as raw_occurred_at,
        forward_recipients as raw_forward_recipients,
        raw_file,
        raw_file_row
    from source
),

checked as {{ not_materialized() }} (
    select
        * {{ star_exclude() }} (raw_occurred_at, raw_forward_recipients),
        {{ first_broken_rule([
            ['missing_id', 'event_id', 'event_id is null'],
            ['missing_id', 'customer_id', 'customer_id is null'],
            ['missing_value', 'event_type', 'event_type is null'],
            ['missing_value', 'occurred_at', 'raw_occurred_at is null'],
            ['malformed_timestamp', 'occurred_at', is_unreadable('raw_occurred_at', 'occurred_at')],
            ['malformed_value', 'forward_recipients', is_unreadable('raw_forward_recipients', 'forward_recipients')],
            ['unknown_type', 'event_type', 'not ' ~ in_contract_values('event_type', 'event_type')],
            ['out_of_range', 'forward_recipients', 'forward_recipients < 0'],
            ['future_timestamp', 'occurred_at', 'occurred_at > ' ~ run_started_timestamp()],
        ]) }} as row_rejection
    from typed
),

{{ reject_duplicate_keys('checked', ['event_id'], prior=this if is_incremental() else none) }}

select * from deduplicated
