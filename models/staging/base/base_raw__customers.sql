-- One row per raw customers row, typed, with the first contract rule it breaks.
with

source as not materialized (
    select * from {{ raw_rows('customers', announce=true) }}
),

typed as not materialized (
    select
        {{ clean_text('customer_id') }} as customer_id,
        lower({{ clean_text('email') }}) as email,
        try_cast(created_at as timestamp) as created_at,
        coalesce({{ clean_enum('acquisition_channel') }}, 'unknown') as acquisition_channel,
        upper({{ clean_text('country') }}) as country,
        raw_file,
        raw_file_row,
        case
            when {{ is_blank('customer_id') }} then 'missing_id'
            when created_at is null then 'missing_value'
            when {{ is_malformed('created_at', 'timestamp') }} then 'malformed_timestamp'
            when {{ clean_enum('acquisition_channel') }} is not null
                and not {{ in_contract_values(clean_enum('acquisition_channel'), 'acquisition_channel') }}
                then 'unknown_type'
            when try_cast(created_at as timestamp) > {{ run_started_timestamp() }} then 'future_timestamp'
        end as row_rejection_reason
    from source
),

{{ reject_duplicate_keys('typed', ['customer_id']) }},

final as (
    select
        * exclude (row_rejection_reason),
        row_rejection_reason as rejection_reason
    from deduplicated
)

select * from final
