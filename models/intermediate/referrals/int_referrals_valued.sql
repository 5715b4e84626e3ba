-- The value of each credited referral to its referrer: docs/measures.md,
-- "Customer referral value (CRV)", value of one referral.
with

credited_referrals as (
    select * from {{ ref('int_referrals_credited') }}
),

referrals as (
    select * from {{ ref('int_referrals_filtered') }}
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

discount_factors as (
    select * from {{ ref('int_discount_factors_computed') }}
),

discount_factor_list as (
    select {{ ordered_list_agg('discount_factor', 'month_number') }} as discount_factors
    from discount_factors
),

credited as (
    select
        credited_referrals.*,
        coalesce(referrals.reward_cost, 0) as reward_cost,
        cast(
            credited_referrals.converted_on + {{ months_interval('settings.crv_horizon_months') }} as timestamp
        ) as horizon_ends_at
    from credited_referrals
    cross join settings
    inner join referrals
        on credited_referrals.referral_id = referrals.referral_id
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
        -- Nobody answered and the prior weighs 0: the prior alone (0 / 0 would be NaN on
        -- DuckDB and NULL on Spark).
        coalesce(
            (
                answers.joined_anyway_count
                + settings.would_have_joined_anyway_prior_weight * settings.would_have_joined_anyway_prior
            )
            / nullif(answers.answered_count + settings.would_have_joined_anyway_prior_weight, 0),
            settings.would_have_joined_anyway_prior
        ) as joined_anyway_probability
    from answers
    cross join settings
),

referee_margins as (
    select
        credited.referee_customer_id,
        sum(transactions.margin) as referee_margin
    from credited
    inner join transactions
        on credited.referee_customer_id = transactions.customer_id
            and credited.converted_on <= transactions.transacted_on
            and credited.horizon_ends_at > transactions.transacted_at
    group by credited.referee_customer_id
),

valued as (
    select
        credited.referral_id,
        credited.referrer_customer_id,
        credited.referee_customer_id,
        credited.converted_at,
        credited.converted_on,
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
        acquisition.acquisition_cost as acquisition_cost_saved,
        greatest(
            0,
            least(
                settings.crv_horizon_months,
                ceil({{ months_between('settings.as_of_date', 'credited.horizon_ends_at') }})
            )
        ) as remaining_horizon_months,
        predictions.expected_margin_by_month,
        discount_factor_list.discount_factors
    from credited
    cross join settings
    cross join discount_factor_list
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
        converted_on,
        horizon_ends_at,
        is_horizon_complete,
        would_have_joined_anyway,
        joined_anyway_probability,
        reward_cost,
        referee_margin_to_date,
        acquisition_cost_saved,
        (1 - joined_anyway_probability) * (referee_margin_to_date - reward_cost)
        + acquisition_cost_saved as realized_value,
        remaining_horizon_months,
        (1 - joined_anyway_probability)
        * {{ discounted_list_sum('expected_margin_by_month', 'remaining_horizon_months', 'discount_factors') }}
            as expected_remaining_value
    from valued
)

select * from final
