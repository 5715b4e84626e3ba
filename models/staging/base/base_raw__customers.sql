-- One row per raw customers row, typed, with the first contract rule it breaks and the
-- column that breaks it.
with

source as {{ not_materialized() }} (
    select * from {{ raw_rows('customers', announce=true) }}
),

typed as {{ not_materialized() }} (
    select
        {{ clean_text('customer_id') }} as customer_id,
        lower({{ clean_text('email') }}) as email,
        {{ raw_timestamp('created_at', 'customers') }} as created_at,
        coalesce({{ clean_enum('acquisition_channel') }}, 'unknown') as acquisition_channel,
        upper({{ clean_text('country') }}) as country,
        created_at as raw_created_at,
        raw_file,
        raw_file_row
    from source
),

checked as {{ not_materialized() }} (
    select
        * {{ star_exclude() }} (raw_created_at),
        {{ first_broken_rule([
            ['missing_id', 'customer_id', 'customer_id is null'],
            ['missing_value', 'created_at', 'raw_created_at is null'],
            ['malformed_timestamp', 'created_at', is_unreadable('raw_created_at', 'created_at')],
            ['unknown_type', 'acquisition_channel', 'not ' ~ in_contract_values('acquisition_channel', 'acquisition_channel')],
            ['future_timestamp', 'created_at', 'created_at > ' ~ run_started_timestamp()],
        ]) }} as row_rejection
    from typed
),

{{ reject_duplicate_keys('checked', ['customer_id']) }},

final as (
    select
        * {{ star_exclude() }} (row_rejection_reason, row_rejected_column),
        row_rejection_reason as rejection_reason,
        row_rejected_column as rejected_column
    from deduplicated
)

select * from final
