-- Every model cross-joins int_analysis_settings, so it must hold exactly one row:
-- more would multiply every measure, none would empty every mart.
with

settings as (
    select * from {{ ref('int_analysis_settings') }}
),

counted as (
    select count(*) as n_rows from settings
)

select * from counted
where n_rows != 1
