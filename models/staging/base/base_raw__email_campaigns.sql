-- One row per raw email_campaigns row, typed, with the first contract rule it breaks and
-- the column that breaks it.
-- Read after customers, so that a folder of the wrong format (or a bad required file)
-- stops the build with one message:
-- depends_on: {{ ref('base_raw__customers') }}
with

source as {{ not_materialized() }} (
    select * from {{ raw_rows('email_campaigns', announce=true) }}
),

typed as {{ not_materialized() }} (
    select
        {{ clean_text('campaign_id') }} as campaign_id,
        {{ clean_text('campaign_name') }} as campaign_name,
        {{ clean_enum('campaign_type') }} as campaign_type,
        {{ raw_timestamp('sent_at', 'email_campaigns') }} as sent_at,
        sent_at as raw_sent_at,
        raw_file,
        raw_file_row
    from source
),

checked as {{ not_materialized() }} (
    select
        * {{ star_exclude() }} (raw_sent_at),
        {{ first_broken_rule([
            ['missing_id', 'campaign_id', 'campaign_id is null'],
            ['malformed_timestamp', 'sent_at', is_unreadable('raw_sent_at', 'sent_at')],
            ['unknown_type', 'campaign_type', 'campaign_type is not null and not '
                ~ in_contract_values('campaign_type', 'campaign_type')],
            ['future_timestamp', 'sent_at', 'sent_at > ' ~ run_started_timestamp()],
        ]) }} as row_rejection
    from typed
),

{{ reject_duplicate_keys('checked', ['campaign_id']) }},

final as (
    select
        * {{ star_exclude() }} (row_rejection_reason, row_rejected_column),
        row_rejection_reason as rejection_reason,
        row_rejected_column as rejected_column
    from deduplicated
)

select * from final
