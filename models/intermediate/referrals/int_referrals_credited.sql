-- Who brought in whom, one row per referee converted up to as_of_date: docs/measures.md,
-- "Customer referral value (CRV)".
with

referrals as (
    select * from {{ ref('int_referrals_filtered') }}
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
        referrals.would_have_joined_anyway
    from referrals
    cross join settings
    where referrals.is_converted
        and coalesce(referrals.converted_at, referrals.referred_at) < settings.as_of_cutoff_at
),

final as (
    select
        referral_id,
        referrer_customer_id,
        referee_customer_id,
        converted_at,
        cast(converted_at as date) as converted_on,
        would_have_joined_anyway
    from converted
    qualify row_number() over (
            partition by referee_customer_id
            order by converted_at nulls last, referral_id nulls last
        ) = 1
)

select * from final
