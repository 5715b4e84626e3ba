-- Conversion factors from every known currency into the reporting currency.
with

rates as (
    select * from {{ ref('currency_rates') }}
),

reporting as (
    select usd_per_unit from rates
    where currency = upper('{{ var("reporting_currency") }}')
),

final as (
    select
        upper(rates.currency) as currency,
        rates.usd_per_unit,
        cast(rates.usd_per_unit / reporting.usd_per_unit as double) as to_reporting_rate
    from rates
    cross join reporting
)

select * from final
