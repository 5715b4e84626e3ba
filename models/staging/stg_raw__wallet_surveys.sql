with

surveys as (
    select * from {{ ref('base_raw__wallet_surveys') }}
    where rejection_reason is null
),

rates as (
    select * from {{ ref('stg_reference__exchange_rates') }}
),

final as (
    select
        surveys.response_id,
        surveys.customer_id,
        surveys.responded_at,
        surveys.period_months,
        surveys.currency as original_currency,
        surveys.category_spend as original_category_spend,
        cast(surveys.category_spend * rates.to_reporting_rate as decimal(18, 2)) as category_spend,
        surveys.brands_used,
        surveys.brand_rank,
        surveys.likelihood_to_recommend
    from surveys
    left join rates
        on surveys.currency = rates.currency
)

select * from final
