-- One row per raw email_events row, typed, with the first contract rule it breaks.
with

source as (
    select * from {{ raw_table('email_events', announce=true) }}
),

customers as (
    select customer_id from {{ ref('base_raw__customers') }}
    where rejection_reason is null
),

campaigns as (
    select campaign_id from {{ ref('base_raw__email_campaigns') }}
    where rejection_reason is null
),

typed as (
    select
        {{ clean_text('event_id') }} as event_id,
        {{ clean_text('customer_id') }} as customer_id,
        {{ clean_text('campaign_id') }} as campaign_id,
        {{ clean_enum('event_type') }} as event_type,
        try_cast(occurred_at as timestamp) as occurred_at,
        try_cast(forward_recipients as integer) as forward_recipients,
        case
            when {{ is_blank('event_id') }} or {{ is_blank('customer_id') }} then 'missing_id'
            when {{ is_blank('event_type') }} or occurred_at is null then 'missing_value'
            when {{ is_malformed('occurred_at', 'timestamp') }} then 'malformed_timestamp'
            when {{ is_malformed('forward_recipients', 'integer') }} then 'malformed_value'
            when not {{ in_contract_values(clean_enum('event_type'), 'event_type') }} then 'unknown_type'
            when try_cast(forward_recipients as integer) < 0 then 'out_of_range'
            when try_cast(occurred_at as timestamp) > {{ run_started_timestamp() }} then 'future_timestamp'
        end as row_rejection_reason,
        to_json(source) as raw_row
    from source
),

deduplicated as (
    {{ reject_duplicate_keys('typed', 'event_id', 'occurred_at, raw_row') }}
),

final as (
    select
        deduplicated.* exclude (deduplicated.row_rejection_reason),
        coalesce(
            deduplicated.row_rejection_reason,
            case
                when customers.customer_id is null then 'orphan_reference'
                when deduplicated.campaign_id is not null and campaigns.campaign_id is null
                    then 'orphan_reference'
            end
        ) as rejection_reason
    from deduplicated
    left join customers
        on deduplicated.customer_id = customers.customer_id
    left join campaigns
        on deduplicated.campaign_id = campaigns.campaign_id
)

select * from final
