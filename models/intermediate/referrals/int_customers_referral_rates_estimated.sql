-- Referral rates, one row per customer known on as_of_date (no money): docs/measures.md,
-- "Customer referral value (CRV)", the referral rate.
with

customers as (
    select * from {{ ref('int_customers_filtered') }}
),

referrals_made as (
    select * from {{ ref('int_referrals_filtered') }}
),

credited_referrals as (
    select * from {{ ref('int_referrals_credited') }}
),

settings as (
    select * from {{ ref('int_analysis_settings') }}
),

made as (
    select
        referrer_customer_id as customer_id,
        count(*) as referrals_made_count
    from referrals_made
    group by referrer_customer_id
),

converted as (
    select
        referrer_customer_id as customer_id,
        count(*) as converted_referral_count
    from credited_referrals
    group by referrer_customer_id
),

exposure as (
    select
        customers.customer_id,
        coalesce(converted.converted_referral_count, 0) as converted_referral_count,
        greatest(coalesce(made.referrals_made_count, 0), coalesce(converted.converted_referral_count, 0))
            as referrals_made_count,
        greatest(
            {{ months_between('customers.created_at', 'settings.as_of_date') }}, cast(1 as double) / 30
        ) as exposure_months
    from customers
    cross join settings
    left join made
        on customers.customer_id = made.customer_id
    left join converted
        on customers.customer_id = converted.customer_id
),

population_rate as (
    select
        sum(referrals_made_count) / {{ ordered_sum('exposure_months', 'customer_id') }} as mean_rate,
        coalesce(sum(converted_referral_count) / nullif(sum(referrals_made_count), 0), 0) as conversion_share
    from exposure
),

rate_prior as (
    select
        population_rate.mean_rate,
        population_rate.conversion_share,
        (
            {{ ordered_sum(
                'power(exposure.referrals_made_count - exposure.exposure_months * population_rate.mean_rate, 2)',
                'exposure.customer_id',
            ) }}
            - {{ ordered_sum('exposure.exposure_months * population_rate.mean_rate', 'exposure.customer_id') }}
        ) / {{ ordered_sum('power(exposure.exposure_months, 2)', 'exposure.customer_id') }} as rate_variance
    from exposure
    cross join population_rate
    group by population_rate.mean_rate, population_rate.conversion_share
),

posterior as (
    select
        exposure.*,
        rate_prior.mean_rate,
        rate_prior.conversion_share,
        case
            when rate_prior.rate_variance > 0
                then power(rate_prior.mean_rate, 2) / rate_prior.rate_variance + exposure.referrals_made_count
        end as rate_shape,
        case
            when rate_prior.rate_variance > 0
                then rate_prior.mean_rate / rate_prior.rate_variance + exposure.exposure_months
        end as rate_scale_inverse
    from exposure
    cross join rate_prior
),

final as (
    select
        posterior.customer_id,
        posterior.referrals_made_count,
        posterior.converted_referral_count,
        posterior.exposure_months as referral_exposure_months,
        coalesce(posterior.rate_shape / posterior.rate_scale_inverse, posterior.mean_rate)
        * posterior.conversion_share as referral_rate_per_month,
        posterior.mean_rate * posterior.conversion_share as population_referral_rate_per_month,
        posterior.rate_shape / posterior.rate_scale_inverse / nullif(posterior.mean_rate, 0) as referral_rate_multiple,
        posterior.rate_shape / posterior.rate_scale_inverse
        * power(
            greatest(
                0,
                1 - 1 / (9 * posterior.rate_shape)
                - settings.referral_evidence_z * sqrt(1 / (9 * posterior.rate_shape))
            ),
            3
        )
        / nullif(posterior.mean_rate, 0) as referral_rate_credible_multiple
    from posterior
    cross join settings
)

select * from final
