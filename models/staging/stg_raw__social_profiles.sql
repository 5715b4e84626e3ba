with

profiles as (
    select * from {{ ref('base_raw__social_profiles') }}
    where rejection_reason is null
),

final as (
    select
        customer_id,
        network,
        followers,
        following,
        posts_90d,
        brand_mentions_90d,
        is_public,
        observed_at
    from profiles
)

select * from final
