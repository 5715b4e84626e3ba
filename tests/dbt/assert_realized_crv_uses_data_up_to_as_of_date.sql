-- Realized CRV uses only what happened up to as_of_date: every credited referral
-- converted before the cutoff, and each referee's margin is exactly their margin in
-- int_transactions_costed (which stops at as_of_date) from the conversion day to the end
-- of the horizon. Returns the referrals that break either rule.
with

valued as (
    select * from {{ ref('int_referrals_valued') }}
),

transactions as (
    select * from {{ ref('int_transactions_costed') }}
),

settings as (
    select * from {{ ref('int_analysis_settings') }}
),

margin_in_horizon as (
    select
        valued.referral_id,
        coalesce(sum(transactions.margin), 0) as referee_margin
    from valued
    left join transactions
        on valued.referee_customer_id = transactions.customer_id
            and valued.converted_on <= transactions.transacted_on
            and valued.horizon_ends_at > transactions.transacted_at
    group by valued.referral_id
),

final as (
    select
        valued.referral_id,
        valued.converted_at,
        valued.referee_margin_to_date,
        margin_in_horizon.referee_margin
    from valued
    cross join settings
    inner join margin_in_horizon
        on valued.referral_id = margin_in_horizon.referral_id
    where valued.converted_at >= settings.as_of_cutoff_at
        or abs(valued.referee_margin_to_date - margin_in_horizon.referee_margin) > 0.005
)

select * from final
