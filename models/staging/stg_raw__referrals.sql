with

referrals as (
    select * from {{ ref('base_raw__referrals') }}
    where rejection_reason is null
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
        referrals.would_have_joined_anyway
    from referrals
)

select * from final
