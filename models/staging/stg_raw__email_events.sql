with

events as (
    select * from {{ ref('base_raw__email_events') }}
    where rejection_reason is null
),

final as (
    select
        event_id,
        customer_id,
        campaign_id,
        event_type,
        occurred_at,
        forward_recipients
    from events
)

select * from final
