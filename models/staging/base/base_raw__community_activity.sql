{{ config(materialized='view') }}
-- One row per raw community_activity row, typed, with the first contract rule it breaks:
-- the rows staged file by file (base_raw__community_activity_rows), references checked
-- against this build's valid customers.
with

activity as (
    select * from {{ ref('base_raw__community_activity_rows') }}
),

customers as (
    select customer_id from {{ ref('base_raw__customers') }}
    where rejection_reason is null
),

final as (
    {{ reject_orphan_references('activity', [['customer_id', 'customers', 'customer_id']]) }}
)

select * from final
