-- The referrals made up to and including as_of_date: the one place the referrals
-- source is cut at the analysis date.
with

referrals as (
    select * from {{ ref('stg_raw__referrals') }}
),

settings as (
    select * from {{ ref('int_analysis_settings') }}
),

final as (
    select referrals.*
    from referrals
    cross join settings
    where referrals.referred_at < settings.as_of_cutoff_at
)

select * from final
