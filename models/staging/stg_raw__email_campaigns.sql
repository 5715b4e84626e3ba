with

campaigns as (
    select * from {{ ref('base_raw__email_campaigns') }}
    where rejection_reason is null
),

final as (
    select
        campaign_id,
        campaign_name,
        campaign_type,
        sent_at
    from campaigns
)

select * from final
