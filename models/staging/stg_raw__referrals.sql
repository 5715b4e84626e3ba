with

referrals as (
    select * from {{ ref('base_raw__referrals') }}
    where rejection_reason is null
),

rates as (
    select * from {{ ref('stg_reference__exchange_rates') }}
),

final as (
    select
        referrals.referral_id,
        referrals.referrer_customer_id,
        referrals.referee_customer_id,
        referrals.referred_at,
        referrals.converted_at,
        referrals.referee_customer_id is not null as is_converted,
        referrals.channel,
        referrals.currency as original_currency,
        referrals.reward_cost as original_reward_cost,
        cast(referrals.reward_cost * rates.to_reporting_rate as decimal(18, 2)) as reward_cost,
        referrals.would_have_joined_anyway
    from referrals
    left join rates
        on referrals.currency = rates.currency
)

select * from final
