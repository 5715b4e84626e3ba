-- Every known currency and its value in US dollars (seed currency_rates). The factors
-- into the reporting currency are int_exchange_rates_resolved.
with

rates as (
    select * from {{ ref('currency_rates') }}
),

final as (
    select
        upper(rates.currency) as currency,
        rates.usd_per_unit
    from rates
)

select * from final
