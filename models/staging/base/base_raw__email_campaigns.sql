-- One row per raw email_campaigns row, typed, with the first contract rule it breaks.
-- Read after customers, so that a folder of the wrong format (or a bad required file)
-- stops the build with one message:
-- depends_on: {{ ref('base_raw__customers') }}
with

source as not materialized (
    select * from {{ raw_rows('email_campaigns', announce=true) }}
),

typed as not materialized (
    select
        {{ clean_text('campaign_id') }} as campaign_id,
        {{ clean_text('campaign_name') }} as campaign_name,
        {{ clean_enum('campaign_type') }} as campaign_type,
        try_cast(sent_at as timestamp) as sent_at,
        raw_file,
        raw_file_row,
        case
            when {{ is_blank('campaign_id') }} then 'missing_id'
            when {{ is_malformed('sent_at', 'timestamp') }} then 'malformed_timestamp'
            when {{ clean_enum('campaign_type') }} is not null
                and not {{ in_contract_values(clean_enum('campaign_type'), 'campaign_type') }}
                then 'unknown_type'
            when try_cast(sent_at as timestamp) > {{ run_started_timestamp() }} then 'future_timestamp'
        end as row_rejection_reason
    from source
),

{{ reject_duplicate_keys('typed', ['campaign_id']) }},

final as (
    select
        * exclude (row_rejection_reason),
        row_rejection_reason as rejection_reason
    from deduplicated
)

select * from final
