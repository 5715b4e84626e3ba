-- The value of each converted referral to its referrer (Kumar, Petersen & Leone),
-- one row per referee, credited to the earliest referral that converted them, up to
-- as_of_date. Every money column is valued at as_of_date (macros/finance.sql).
--
--   value = (1 - p) x (referee margin in the horizon - reward) + acquisition cost saved
--
-- where p is the probability that the referee would have joined anyway: their own
-- answer (1 or 0) or, unanswered, the share among answered referrals shrunk toward
-- var would_have_joined_anyway_prior. The realized part uses the referee's margin
-- already earned; the expected part the referee's predicted margin for the months of
-- the horizon that are still to come.
with

referrals as (
    select * from {{ ref('stg_raw__referrals') }}
),

transactions as (
    select * from {{ ref('int_transactions_costed') }}
),

predictions as (
    select * from {{ ref('int_customers_clv_predicted') }}
),

acquisition as (
    select * from {{ ref('int_acquisition_costs_blended') }}
),

settings as (
    select * from {{ ref('int_analysis_settings') }}
),

converted as (
    select
        referrals.referral_id,
        referrals.referrer_customer_id,
        referrals.referee_customer_id,
        coalesce(referrals.converted_at, referrals.referred_at) as converted_at,
        coalesce(referrals.reward_cost, 0) as reward_cost,
        referrals.would_have_joined_anyway,
        row_number() over (
            partition by referrals.referee_customer_id
            order by coalesce(referrals.converted_at, referrals.referred_at), referrals.referral_id
        ) as conversion_rank
    from referrals
    cross join settings
    where referrals.is_converted
        and coalesce(referrals.converted_at, referrals.referred_at) < settings.as_of_cutoff_at
),

credited as (
    select
        converted.* exclude (converted.conversion_rank),
        converted.converted_at + to_months(settings.crv_horizon_months) as horizon_ends_at
    from converted
    cross join settings
    where converted.conversion_rank = 1
),

answers as (
    select
        count(would_have_joined_anyway) as answered_count,
        count(*) filter (where would_have_joined_anyway) as joined_anyway_count
    from credited
),

joined_anyway_estimate as (
    select
        answers.answered_count,
        answers.joined_anyway_count,
        (
            answers.joined_anyway_count
            + settings.would_have_joined_anyway_prior_weight * settings.would_have_joined_anyway_prior
        )
        / (answers.answered_count + settings.would_have_joined_anyway_prior_weight)
            as joined_anyway_probability
    from answers
    cross join settings
),

referee_margins as (
    select
        credited.referee_customer_id,
        sum(transactions.margin) as referee_margin,
        sum(
            {{ value_at_as_of(
                'transactions.margin', 'transactions.transacted_at',
                'settings.as_of_date', 'settings.annual_discount_rate',
            ) }}
        ) as referee_margin_value
    from credited
    cross join settings
    inner join transactions
        on credited.referee_customer_id = transactions.customer_id
            and credited.converted_at <= transactions.transacted_at
            and credited.horizon_ends_at > transactions.transacted_at
            and settings.as_of_cutoff_at > transactions.transacted_at
    group by credited.referee_customer_id
),

valued as (
    select
        credited.referral_id,
        credited.referrer_customer_id,
        credited.referee_customer_id,
        credited.converted_at,
        credited.horizon_ends_at,
        credited.horizon_ends_at <= settings.as_of_cutoff_at as is_horizon_complete,
        credited.would_have_joined_anyway,
        case
            when credited.would_have_joined_anyway then 1.0
            when not credited.would_have_joined_anyway then 0.0
            else joined_anyway_estimate.joined_anyway_probability
        end as joined_anyway_probability,
        credited.reward_cost,
        coalesce(referee_margins.referee_margin, 0) as referee_margin_to_date,
        coalesce(referee_margins.referee_margin_value, 0) as referee_margin_value,
        {{ value_at_as_of(
            'credited.reward_cost', 'credited.converted_at',
            'settings.as_of_date', 'settings.annual_discount_rate',
        ) }} as reward_value,
        {{ value_at_as_of(
            'acquisition.acquisition_cost', 'credited.converted_at',
            'settings.as_of_date', 'settings.annual_discount_rate',
        ) }} as acquisition_cost_saved_value,
        greatest(
            0,
            least(
                settings.crv_horizon_months,
                ceil({{ months_between('settings.as_of_date', 'credited.horizon_ends_at') }})
            )
        ) as remaining_horizon_months,
        predictions.expected_margin_by_month,
        settings.annual_discount_rate
    from credited
    cross join settings
    cross join joined_anyway_estimate
    cross join acquisition
    left join referee_margins
        on credited.referee_customer_id = referee_margins.referee_customer_id
    left join predictions
        on credited.referee_customer_id = predictions.customer_id
),

final as (
    select
        referral_id,
        referrer_customer_id,
        referee_customer_id,
        converted_at,
        horizon_ends_at,
        is_horizon_complete,
        would_have_joined_anyway,
        joined_anyway_probability,
        reward_cost,
        referee_margin_to_date,
        referee_margin_value,
        reward_value,
        acquisition_cost_saved_value,
        (1 - joined_anyway_probability) * (referee_margin_value - reward_value)
        + acquisition_cost_saved_value as realized_value,
        remaining_horizon_months,
        (1 - joined_anyway_probability)
        * {{ discounted_list_sum('expected_margin_by_month', 'remaining_horizon_months', 'annual_discount_rate') }}
            as expected_remaining_value
    from valued
)

select * from final
