-- One row per raw wallet_surveys row, typed, with the first contract rule it breaks and the
-- column that breaks it.
with

source as {{ not_materialized() }} (
    select * from {{ raw_rows('wallet_surveys', announce=true) }}
),

customers as (
    select customer_id from {{ ref('base_raw__customers') }}
    where rejection_reason is null
),

currencies as (
    select currency from {{ ref('stg_reference__exchange_rates') }}
),

typed as {{ not_materialized() }} (
    select
        {{ clean_text('response_id') }} as response_id,
        {{ clean_text('customer_id') }} as customer_id,
        {{ raw_timestamp('responded_at', 'wallet_surveys') }} as responded_at,
        try_cast(period_months as integer) as period_months,
        try_cast(category_spend as decimal(18, 2)) as category_spend,
        upper({{ clean_text('currency') }}) as currency,
        try_cast(brands_used as integer) as brands_used,
        try_cast(brand_rank as integer) as brand_rank,
        try_cast(likelihood_to_recommend as integer) as likelihood_to_recommend,
        responded_at as raw_responded_at,
        period_months as raw_period_months,
        category_spend as raw_category_spend,
        brands_used as raw_brands_used,
        brand_rank as raw_brand_rank,
        likelihood_to_recommend as raw_likelihood_to_recommend,
        raw_file,
        raw_file_row
    from source
),

checked as {{ not_materialized() }} (
    select
        typed.* {{ star_exclude() }} (
            typed.raw_responded_at,
            typed.raw_period_months,
            typed.raw_category_spend,
            typed.raw_brands_used,
            typed.raw_brand_rank,
            typed.raw_likelihood_to_recommend
        ),
        {{ first_broken_rule([
            ['missing_id', 'response_id', 'typed.response_id is null'],
            ['missing_id', 'customer_id', 'typed.customer_id is null'],
            ['missing_value', 'responded_at', 'typed.raw_responded_at is null'],
            ['missing_value', 'currency', 'typed.raw_category_spend is not null and typed.currency is null'],
            ['malformed_timestamp', 'responded_at', is_unreadable('typed.raw_responded_at', 'typed.responded_at')],
            ['malformed_value', 'period_months', is_unreadable('typed.raw_period_months', 'typed.period_months')],
            ['malformed_value', 'category_spend', is_unreadable('typed.raw_category_spend', 'typed.category_spend')],
            ['malformed_value', 'brands_used', is_unreadable('typed.raw_brands_used', 'typed.brands_used')],
            ['malformed_value', 'brand_rank', is_unreadable('typed.raw_brand_rank', 'typed.brand_rank')],
            ['malformed_value', 'likelihood_to_recommend',
                is_unreadable('typed.raw_likelihood_to_recommend', 'typed.likelihood_to_recommend')],
            ['unknown_currency', 'currency',
                'typed.currency is not null and typed.currency not in (select currencies.currency from currencies)'],
            ['out_of_range', 'period_months', 'typed.period_months <= 0'],
            ['out_of_range', 'category_spend', 'typed.category_spend < 0'],
            ['out_of_range', 'brands_used', 'typed.brands_used < 1'],
            ['out_of_range', 'brand_rank', 'typed.brand_rank < 1 or typed.brand_rank > typed.brands_used'],
            ['out_of_range', 'likelihood_to_recommend', 'typed.likelihood_to_recommend not between 0 and 10'],
            ['future_timestamp', 'responded_at', 'typed.responded_at > ' ~ run_started_timestamp()],
        ]) }} as row_rejection
    from typed
),

{{ reject_duplicate_keys('checked', ['response_id']) }},

final as (
    {{ reject_orphan_references('deduplicated', [['customer_id', 'customers', 'customer_id']]) }}
)

select * from final
