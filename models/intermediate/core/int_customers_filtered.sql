{{ config(materialized='view') }}
-- The customers known on as_of_date (created up to it): the population of every
-- per-customer measure, prospects included.
with

customers as (
    select * from {{ ref('stg_raw__customers') }}
),

settings as (
    select * from {{ ref('int_analysis_settings') }}
),

final as (
    select customers.*
    from customers
    cross join settings
    where customers.created_at < settings.as_of_cutoff_at
)

select * from final
