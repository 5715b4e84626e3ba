-- Post-hook: stop when the required customers lost (nearly) every row. A table on Spark:
-- email_key reads a session variable there, which a persisted view cannot name
-- (macros/privacy.sql).
{{ config(
    materialized=('table' if target.type == 'spark' else 'view'),
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
