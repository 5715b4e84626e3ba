-- The social profiles observed up to and including as_of_date: the one place the
-- social_profiles source is cut at the analysis date.
with

profiles as (
    select * from {{ ref('stg_raw__social_profiles') }}
),

settings as (
    select * from {{ ref('int_analysis_settings') }}
),

final as (
    select profiles.*
    from profiles
    cross join settings
    where profiles.observed_at < settings.as_of_cutoff_at
)

select * from final
