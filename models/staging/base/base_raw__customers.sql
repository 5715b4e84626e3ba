-- One row per raw customers row, typed, with the first contract rule it breaks.
with

source as (
    select * from {{ raw_table('customers', announce=true) }}
),

typed as (
    select
        {{ clean_text('customer_id') }} as customer_id,
        lower({{ clean_text('email') }}) as email,
        try_cast(created_at as timestamp) as created_at,
        coalesce({{ clean_enum('acquisition_channel') }}, 'unknown') as acquisition_channel,
        upper({{ clean_text('country') }}) as country,
        case
            when {{ is_blank('customer_id') }} then 'missing_id'
            when created_at is null then 'missing_value'
            when {{ is_malformed('created_at', 'timestamp') }} then 'malformed_timestamp'
            when {{ clean_enum('acquisition_channel') }} is not null
                and not {{ in_contract_values(clean_enum('acquisition_channel'), 'acquisition_channel') }}
                then 'unknown_type'
            when try_cast(created_at as timestamp) > {{ run_started_timestamp() }} then 'future_timestamp'
        end as row_rejection_reason,
        to_json(source) as raw_row
    from source
),

deduplicated as (
    {{ reject_duplicate_keys('typed', 'customer_id', 'created_at, raw_row') }}
),

final as (
    select
        * exclude (row_rejection_reason),
        row_rejection_reason as rejection_reason
    from deduplicated
)

select * from final
