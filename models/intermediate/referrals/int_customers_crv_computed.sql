{{ config(materialized='table_in_passes') }}
-- Customer referral value, one row per customer known on as_of_date: docs/measures.md,
-- "Customer referral value (CRV)", per customer.
with

customers as (
    select * from {{ ref('int_customers_filtered') }}
    where {{ in_customer_pass('customer_id') }}
),

predictions as (
    select * from {{ ref('int_customers_clv_predicted') }}
    where {{ in_customer_pass('customer_id') }}
),

-- Every referral: the value of a future referral (referral_value) is taken over all of
-- them, also when the model is built in passes over customer buckets.
referrals as (
    select * from {{ ref('int_referrals_valued') }}
),

-- The referrals made by the customers of this pass.
referrer_referrals as (
    select * from {{ ref('int_referrals_valued') }}
    where {{ in_customer_pass('referrer_customer_id') }}
),

trees as (
    select * from {{ ref('int_referral_trees_walked') }}
    where {{ in_customer_pass('customer_id') }}
),

acquisition as (
    select * from {{ ref('int_acquisition_costs_blended') }}
),

files as (
    select * from {{ ref('int_raw_files_detected') }}
),

rates as (
    select * from {{ ref('int_customers_referral_rates_estimated') }}
    where {{ in_customer_pass('customer_id') }}
),

settings as (
    select * from {{ ref('int_analysis_settings') }}
),

discount_factors as (
    select * from {{ ref('int_discount_factors_computed') }}
),

per_referrer as (
    select
        referrer_customer_id as customer_id,
        count(*) filter (where referee_margin_to_date > 0) as paying_referee_count,
        {{ ordered_sum('realized_value', 'referral_id') }} as realized_crv,
        {{ ordered_sum('expected_remaining_value', 'referral_id') }} as expected_remaining_crv,
        max(converted_at) as last_referee_converted_at
    from referrer_referrals
    group by referrer_customer_id
),

per_customer as (
    select
        customers.customer_id,
        coalesce(per_referrer.paying_referee_count, 0) as paying_referee_count,
        coalesce(per_referrer.realized_crv, 0) as realized_crv,
        coalesce(per_referrer.expected_remaining_crv, 0) as expected_remaining_crv,
        case
            when predictions.customer_id is not null then coalesce(predictions.probability_alive, 1.0)
            when per_referrer.last_referee_converted_at
                >= settings.as_of_cutoff_at - {{ months_interval('settings.crv_horizon_months') }} then 1.0
            else 0.0
        end as referral_alive_probability
    from customers
    cross join settings
    left join per_referrer
        on customers.customer_id = per_referrer.customer_id
    left join predictions
        on customers.customer_id = predictions.customer_id
),

-- The value of one future referral at its conversion, from the referrals seen so far.
referral_value as (
    select
        coalesce(
            {{ ordered_avg('referrals.joined_anyway_probability', 'referrals.referral_id') }},
            any_value(settings.would_have_joined_anyway_prior)
        )
            as joined_anyway_probability,
        -- Means of DECIMAL money (exact sums, in any order): money_avg, the same DOUBLE
        -- on both engines.
        coalesce(
            {{ money_avg('referrals.referee_margin_to_date', where='referrals.is_horizon_complete') }},
            {{ money_avg('referrals.referee_margin_to_date') }},
            0
        ) as referee_horizon_margin,
        coalesce({{ money_avg('referrals.reward_cost') }}, 0) as reward_cost,
        any_value(acquisition.acquisition_cost) as acquisition_cost
    from settings
    cross join acquisition
    left join referrals
        on true
),

annuity as (
    select
        {{ ordered_sum('discount_factors.discount_factor', 'discount_factors.month_number') }}
            as monthly_discount_sum
    from discount_factors
    cross join settings
    where discount_factors.month_number <= settings.crv_horizon_months
),

expected as (
    select
        per_customer.*,
        rates.* {{ star_exclude() }} (customer_id),  -- noqa: RF02
        (1 - referral_value.joined_anyway_probability)
        * (referral_value.referee_horizon_margin - referral_value.reward_cost)
        + referral_value.acquisition_cost as value_per_referral,
        coalesce(annuity.monthly_discount_sum, 0) as monthly_discount_sum
    from per_customer
    cross join referral_value
    cross join annuity
    inner join rates
        on per_customer.customer_id = rates.customer_id
),

future as (
    select
        expected.*,
        expected.referral_alive_probability * expected.referral_rate_per_month * settings.crv_horizon_months
            as expected_future_referrals,
        expected.expected_remaining_crv
        + expected.referral_alive_probability * expected.referral_rate_per_month
        * expected.value_per_referral * expected.monthly_discount_sum as expected_crv
    from expected
    cross join settings
),

final as (
    select
        future.customer_id,
        files.has_referrals_file as has_referral_data,
        future.converted_referral_count,
        future.paying_referee_count,
        future.referral_exposure_months,
        future.referral_rate_per_month,
        future.population_referral_rate_per_month,
        future.referrals_made_count,
        future.referral_rate_multiple,
        future.referral_rate_credible_multiple,
        future.referral_alive_probability,
        future.expected_future_referrals,
        future.value_per_referral,
        case when files.has_referrals_file then future.realized_crv end as realized_crv,
        case when files.has_referrals_file then future.expected_crv end as expected_crv,
        case when files.has_referrals_file then trees.indirect_referral_value end as indirect_referral_value,
        case
            when files.has_referrals_file
                then future.realized_crv + future.expected_crv + trees.indirect_referral_value
        end as crv,
        case
            when not files.has_referrals_file then 'no_referrals_file'
            when future.converted_referral_count > 0 then 'referred_customers'
            else 'expected_only'
        end as crv_status
    from future
    cross join files
    inner join trees
        on future.customer_id = trees.customer_id
)

select * from final
