-- The referrals made up to and including as_of_date, the reward in the reporting
-- currency: the one place the referrals source is cut at the analysis date.
with

referrals as (
    select * from {{ ref('stg_raw__referrals') }}
),

rates as (
    select * from {{ ref('int_exchange_rates_resolved') }}
),

settings as (
    select * from {{ ref('int_analysis_settings') }}
),

final as (
    select
        referrals.referral_id,
        referrals.referrer_customer_id,
        referrals.referee_customer_id,
        referrals.referred_at,
        referrals.converted_at,
        referrals.is_converted,
        referrals.channel,
        referrals.original_currency,
        referrals.original_reward_cost,
        cast(referrals.original_reward_cost * rates.to_reporting_rate as decimal(18, 2)) as reward_cost,
        referrals.would_have_joined_anyway
    from referrals
    left join rates
        on referrals.original_currency = rates.currency
    cross join settings
    where referrals.referred_at < settings.as_of_cutoff_at
)

select * from final
