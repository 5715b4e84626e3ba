{{ config(materialized='view') }}
-- One row per raw email_events row, typed, with the first contract rule it breaks: the
-- rows staged file by file (base_raw__email_events_rows), references checked against
-- this build's valid customers and campaigns.
with

events as (
    select * from {{ ref('base_raw__email_events_rows') }}
),

customers as (
    select customer_id from {{ ref('base_raw__customers') }}
    where rejection_reason is null
),

campaigns as (
    select campaign_id from {{ ref('base_raw__email_campaigns') }}
    where rejection_reason is null
),

final as (
    {{ reject_orphan_references('events', [
        ['customer_id', 'customers', 'customer_id'],
        ['campaign_id', 'campaigns', 'campaign_id'],
    ]) }}
)

select * from final
