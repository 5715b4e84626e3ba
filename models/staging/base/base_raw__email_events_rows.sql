{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ restage_single_file('email_events') }}",
) }}
-- Every raw email_events row staged so far, typed, with the first row rule it breaks or
-- duplicate_id, decided when its file is staged. When the table is a folder of files, a
-- build reads only the files not staged yet (a duplicate of a row staged before is still a
-- duplicate); a table exported as one file is staged again whole by every build
-- (restage_single_file). --full-refresh stages every file again. Orphan references are
-- checked in base_raw__email_events against the customers of each build.
with

source as not materialized (
    select * from {{ raw_rows('email_events', announce=true, only_new=is_incremental()) }}
),

typed as not materialized (
    select
        {{ clean_text('event_id') }} as event_id,
        {{ clean_text('customer_id') }} as customer_id,
        {{ clean_text('campaign_id') }} as campaign_id,
        {{ clean_enum('event_type') }} as event_type,
        try_cast(occurred_at as timestamp) as occurred_at,
        try_cast(forward_recipients as integer) as forward_recipients,
        raw_file,
        raw_file_row,
        case
            when {{ is_blank('event_id') }} or {{ is_blank('customer_id') }} then 'missing_id'
            when {{ is_blank('event_type') }} or occurred_at is null then 'missing_value'
            when {{ is_malformed('occurred_at', 'timestamp') }} then 'malformed_timestamp'
            when {{ is_malformed('forward_recipients', 'integer') }} then 'malformed_value'
            when not {{ in_contract_values(clean_enum('event_type'), 'event_type') }} then 'unknown_type'
            when try_cast(forward_recipients as integer) < 0 then 'out_of_range'
            when try_cast(occurred_at as timestamp) > {{ run_started_timestamp() }} then 'future_timestamp'
        end as row_rejection_reason
    from source
),

{{ reject_duplicate_keys('typed', ['event_id'], prior=this if is_incremental() else none) }}

select * from deduplicated
