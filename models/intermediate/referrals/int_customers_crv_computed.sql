-- Customer referral value per customer, prospects included (Kumar, Petersen & Leone):
--   realized_crv: value of the referees already converted (int_referrals_valued);
--   expected_crv: the referees' predicted margin still inside their horizon, plus the
--     referrals still to come over the horizon: the customer's own rate of referrals
--     made (invitations, codes, links, converted or not) shrunk toward the population's
--     (empirical-Bayes Gamma-Poisson, moments estimator), times the population's share
--     of referrals that convert, times the chance the customer is still alive, times
--     the value of one referral, discounted month by month (int_discount_factors_computed).
--     A buyer is alive with their BG/NBD P(alive) (1 when the models could not be
--     fitted); a prospect has no purchase process, so one counts as alive only while
--     their last referee converted within the last crv_horizon_months (0 otherwise);
--   indirect_referral_value: referrals further down the tree, weighted by referral_decay;
--   crv = realized + expected + indirect.
-- NULL with crv_status saying so when the referrals file is absent.
-- The posterior also gives a credible lower bound of the referral rate (Wilson-Hilferty
-- approximation of a Gamma quantile, z = var referral_evidence_z): the segments call a
-- customer's expected CRV evidence only when that bound beats the population's rate.
with

customers as (
    select * from {{ ref('int_customers_filtered') }}
),

predictions as (
    select * from {{ ref('int_customers_clv_predicted') }}
),

referrals as (
    select * from {{ ref('int_referrals_valued') }}
),

trees as (
    select * from {{ ref('int_referral_trees_walked') }}
),

acquisition as (
    select * from {{ ref('int_acquisition_costs_blended') }}
),

files as (
    select * from {{ ref('int_raw_files_detected') }}
),

referrals_made as (
    select * from {{ ref('int_referrals_filtered') }}
),

settings as (
    select * from {{ ref('int_analysis_settings') }}
),

discount_factors as (
    select * from {{ ref('int_discount_factors_computed') }}
),

made as (
    select
        referrer_customer_id as customer_id,
        count(*) as referrals_made_count
    from referrals_made
    group by referrer_customer_id
),

per_referrer as (
    select
        referrer_customer_id as customer_id,
        count(*) as converted_referral_count,
        count(*) filter (where referee_margin_to_date > 0) as paying_referee_count,
        {{ ordered_sum('realized_value', 'referral_id') }} as realized_crv,
        {{ ordered_sum('expected_remaining_value', 'referral_id') }} as expected_remaining_crv,
        max(converted_at) as last_referee_converted_at
    from referrals
    group by referrer_customer_id
),

exposure as (
    select
        customers.customer_id,
        coalesce(per_referrer.converted_referral_count, 0) as converted_referral_count,
        greatest(coalesce(made.referrals_made_count, 0), coalesce(per_referrer.converted_referral_count, 0))
            as referrals_made_count,
        coalesce(per_referrer.paying_referee_count, 0) as paying_referee_count,
        coalesce(per_referrer.realized_crv, 0) as realized_crv,
        coalesce(per_referrer.expected_remaining_crv, 0) as expected_remaining_crv,
        greatest({{ months_between('customers.created_at', 'settings.as_of_date') }}, 1.0 / 30) as exposure_months,
        case
            when predictions.customer_id is not null then coalesce(predictions.probability_alive, 1.0)
            when per_referrer.last_referee_converted_at
                >= settings.as_of_cutoff_at - to_months(settings.crv_horizon_months) then 1.0
            else 0.0
        end as referral_alive_probability
    from customers
    cross join settings
    left join per_referrer
        on customers.customer_id = per_referrer.customer_id
    left join made
        on customers.customer_id = made.customer_id
    left join predictions
        on customers.customer_id = predictions.customer_id
),

population_rate as (
    select
        sum(referrals_made_count) / {{ ordered_sum('exposure_months', 'customer_id') }} as mean_rate,
        coalesce(sum(converted_referral_count) / nullif(sum(referrals_made_count), 0), 0) as conversion_share
    from exposure
),

-- Gamma(shape, rate) prior on referral rates by moments: Var[k] = E mu + E^2 sigma^2.
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

-- Each customer's posterior Gamma(shape, rate) of referrals made per month; without
-- heterogeneity in the data (variance <= 0) everyone's rate is the population's.
posterior as (
    select
        exposure.customer_id,
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

-- The value of one future referral at its conversion, from the referrals seen so far.
referral_value as (
    select
        coalesce(
            {{ ordered_avg('referrals.joined_anyway_probability', 'referrals.referral_id') }},
            any_value(settings.would_have_joined_anyway_prior)
        )
            as joined_anyway_probability,
        coalesce(
            {{ ordered_avg(
                'referrals.referee_margin_to_date', 'referrals.referral_id', where='referrals.is_horizon_complete'
            ) }},
            {{ ordered_avg('referrals.referee_margin_to_date', 'referrals.referral_id') }},
            0
        ) as referee_horizon_margin,
        coalesce({{ ordered_avg('referrals.reward_cost', 'referrals.referral_id') }}, 0) as reward_cost,
        any_value(acquisition.acquisition_cost) as acquisition_cost
    from settings
    cross join acquisition
    left join referrals
        on true
),

annuity as (
    select sum(discount_factors.discount_factor) as monthly_discount_sum
    from discount_factors
    cross join settings
    where discount_factors.month_number <= settings.crv_horizon_months
),

expected as (
    select
        exposure.*,
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
        / nullif(posterior.mean_rate, 0) as referral_rate_credible_multiple,
        (1 - referral_value.joined_anyway_probability)
        * (referral_value.referee_horizon_margin - referral_value.reward_cost)
        + referral_value.acquisition_cost as value_per_referral,
        coalesce(annuity.monthly_discount_sum, 0) as monthly_discount_sum
    from exposure
    cross join settings
    cross join referral_value
    cross join annuity
    inner join posterior
        on exposure.customer_id = posterior.customer_id
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
        future.exposure_months as referral_exposure_months,
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
