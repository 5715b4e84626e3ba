-- Post-hook: stop when the required customers lost (nearly) every row. A table on both
-- engines: email_key is computed once, at build time, with the build's secret (a DuckDB
-- variable, a Spark session variable: macros/privacy.sql), so every reader sees the same
-- keys; as a view it would be recomputed by each reader, NULL without the secret, and
-- Spark cannot keep a session variable in a persisted view.
{{ config(
    materialized='table',
    post_hook="{{ check_required_table_kept('customers') }}",
) }}

with

customers as (
    select * from {{ ref('base_raw__customers') }}
    where rejection_reason is null
),

final as (
    select
        customer_id,
        email,
        {{ email_key('email') }} as email_key,
        created_at,
        acquisition_channel,
        country
    from customers
)

select * from final
