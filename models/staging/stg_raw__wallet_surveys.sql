with

surveys as (
    select * from {{ ref('base_raw__wallet_surveys') }}
    where rejection_reason is null
),

final as (
    select
        surveys.response_id,
        surveys.customer_id,
        surveys.responded_at,
        surveys.period_months,
        surveys.currency as original_currency,
        surveys.category_spend as original_category_spend,
        surveys.brands_used,
        surveys.brand_rank,
        surveys.likelihood_to_recommend
    from surveys
)

select * from final
