-- Conversion factors from every known currency into the reporting currency
-- (int_analysis_settings.reporting_currency): multiply an amount by to_reporting_rate.
with

rates as (
    select * from {{ ref('stg_reference__exchange_rates') }}
),

settings as (
    select * from {{ ref('int_analysis_settings') }}
),

reporting as (
    select rates.usd_per_unit
    from rates
    inner join settings
        on rates.currency = settings.reporting_currency
),

final as (
    select
        rates.currency,
        rates.usd_per_unit,
        cast(rates.usd_per_unit / reporting.usd_per_unit as double) as to_reporting_rate
    from rates
    cross join reporting
)

select * from final
