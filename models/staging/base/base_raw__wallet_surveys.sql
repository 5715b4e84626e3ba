-- One row per raw wallet_surveys row, typed, with the first contract rule it breaks.
with

source as not materialized (
    select * from {{ raw_rows('wallet_surveys', announce=true) }}
),

customers as (
    select customer_id from {{ ref('base_raw__customers') }}
    where rejection_reason is null
),

currencies as (
    select currency from {{ ref('stg_reference__exchange_rates') }}
),

typed as not materialized (
    select
        {{ clean_text('response_id') }} as response_id,
        {{ clean_text('customer_id') }} as customer_id,
        try_cast(responded_at as timestamp) as responded_at,
        try_cast(period_months as integer) as period_months,
        try_cast(category_spend as decimal(18, 2)) as category_spend,
        upper({{ clean_text('currency') }}) as currency,
        try_cast(brands_used as integer) as brands_used,
        try_cast(brand_rank as integer) as brand_rank,
        try_cast(likelihood_to_recommend as integer) as likelihood_to_recommend,
        raw_file,
        raw_file_row,
        case
            when {{ is_blank('response_id') }} or {{ is_blank('customer_id') }} then 'missing_id'
            when responded_at is null
                or (category_spend is not null and {{ is_blank('currency') }})
                then 'missing_value'
            when {{ is_malformed('responded_at', 'timestamp') }} then 'malformed_timestamp'
            when {{ is_malformed('period_months', 'integer') }}
                or {{ is_malformed('category_spend', 'decimal(18, 2)') }}
                or {{ is_malformed('brands_used', 'integer') }}
                or {{ is_malformed('brand_rank', 'integer') }}
                or {{ is_malformed('likelihood_to_recommend', 'integer') }}
                then 'malformed_value'
            when {{ clean_text('currency') }} is not null
                and upper({{ clean_text('currency') }}) not in (select currencies.currency from currencies)
                then 'unknown_currency'
            when try_cast(period_months as integer) <= 0
                or try_cast(category_spend as decimal(18, 2)) < 0
                or try_cast(brands_used as integer) < 1
                or try_cast(brand_rank as integer) < 1
                or try_cast(brand_rank as integer) > try_cast(brands_used as integer)
                or try_cast(likelihood_to_recommend as integer) not between 0 and 10
                then 'out_of_range'
            when try_cast(responded_at as timestamp) > {{ run_started_timestamp() }} then 'future_timestamp'
        end as row_rejection_reason
    from source
),

{{ reject_duplicate_keys('typed', ['response_id']) }},

final as (
    {{ reject_orphan_references('deduplicated', [['customer_id', 'customers', 'customer_id']]) }}
)

select * from final
