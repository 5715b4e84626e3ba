-- The acquisition cost a converted referral saves, one row: docs/measures.md,
-- "Customer referral value (CRV)", value of one referral.
with

customers as (
    select * from {{ ref('stg_raw__customers') }}
),

channel_costs as (
    select * from {{ ref('channel_acquisition_costs') }}
),

rates as (
    select * from {{ ref('stg_reference__exchange_rates') }}
),

settings as (
    select * from {{ ref('int_analysis_settings') }}
),

paid_channels as (
    select * from channel_costs
    where acquisition_channel not in ('referral', 'unknown')
),

customers_per_channel as (
    select
        acquisition_channel,
        count(*) as customer_count
    from customers
    group by acquisition_channel
),

blended as (
    select
        coalesce(
            sum(paid_channels.acquisition_cost_usd * customers_per_channel.customer_count)
            / nullif(sum(customers_per_channel.customer_count), 0),
            avg(paid_channels.acquisition_cost_usd)
        ) as acquisition_cost_usd
    from paid_channels
    left join customers_per_channel
        on paid_channels.acquisition_channel = customers_per_channel.acquisition_channel
),

final as (
    select
        blended.acquisition_cost_usd,
        blended.acquisition_cost_usd / reporting.usd_per_unit as acquisition_cost
    from blended
    cross join settings
    inner join rates as reporting
        on settings.reporting_currency = reporting.currency
)

select * from final
