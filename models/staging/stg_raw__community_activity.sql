with

activity as (
    select * from {{ ref('base_raw__community_activity') }}
    where rejection_reason is null
),

final as (
    select
        activity_id,
        customer_id,
        activity_type,
        product_category,
        occurred_at,
        helpful_votes,
        rating
    from activity
)

select * from final
