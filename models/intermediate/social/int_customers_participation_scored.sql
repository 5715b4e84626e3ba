-- Social value part 2, participation and the value of connections, one row per customer
-- known on as_of_date: docs/measures.md, "Social value".
with

customers as (
    select * from {{ ref('int_customers_filtered') }}
),

profiles as (
    select * from {{ ref('int_social_profiles_filtered') }}
),

email as (
    select * from {{ ref('int_email_engagement_aggregated') }}
),

referrals as (
    select * from {{ ref('int_referrals_filtered') }}
),

credited_referrals as (
    select * from {{ ref('int_referrals_credited') }}
),

network_weights as (
    select * from {{ ref('social_network_weights') }}
),

files as (
    select * from {{ ref('int_raw_files_detected') }}
),

social_settings as (
    select * from {{ ref('int_social_settings') }}
),

profiles_weighted as (
    select
        profiles.customer_id,
        profiles.network,
        coalesce(profiles.posts_90d, 0) as posts_90d,
        coalesce(profiles.brand_mentions_90d, 0) as brand_mentions_90d,
        coalesce(profiles.posts_90d, 0) > 0 as is_active,
        coalesce(profiles.is_public, false) as is_public,
        coalesce(network_weights.community_type = 'tight_knit', false) as is_tight_knit,
        coalesce(network_weights.participation_weight, 0)
        * case
            when profiles.is_public then social_settings.public_audience_weight
            else social_settings.intimate_audience_weight
        end
        * (
            social_settings.post_points * coalesce(profiles.posts_90d, 0)
            + social_settings.brand_mention_points * coalesce(profiles.brand_mentions_90d, 0)
        ) as posting_points
    from profiles
    cross join social_settings
    left join network_weights
        on profiles.network = network_weights.network
),

networks as (
    select
        customer_id,
        count(*) as social_network_count,
        count(*) filter (where is_active) as active_network_count,
        count(*) filter (where is_public) as public_network_count,
        count(*) filter (where is_tight_knit) as tight_knit_network_count,
        sum(posts_90d) as posts_90d,
        sum(brand_mentions_90d) as brand_mentions_90d,
        {{ ordered_sum('posting_points', 'network') }} as posting_points
    from profiles_weighted
    group by customer_id
),

referrals_made as (
    select
        referrals.referrer_customer_id as customer_id,
        count(*) as referral_count
    from referrals
    group by referrals.referrer_customer_id
),

referees as (
    select
        referrer_customer_id as customer_id,
        count(*) as converted_referee_count
    from credited_referrals
    group by referrer_customer_id
),

-- Per source: zero for a customer without rows, NULL for everyone without the file.
joined as (
    select
        customers.customer_id,
        files.has_social_profiles_file,
        files.has_email_events_file,
        files.has_referrals_file,
        {% for column in [
            'social_network_count', 'active_network_count', 'public_network_count',
            'tight_knit_network_count', 'posts_90d', 'brand_mentions_90d', 'posting_points',
        ] %}
            case when files.has_social_profiles_file then coalesce(networks.{{ column }}, 0) end as {{ column }},
        {% endfor %}
        case when files.has_email_events_file then coalesce(email.forward_recipient_count, 0) end
            as email_forward_recipient_count,
        case when files.has_referrals_file then coalesce(referrals_made.referral_count, 0) end as referral_count,
        case when files.has_referrals_file then coalesce(referees.converted_referee_count, 0) end
            as converted_referee_count
    from customers
    cross join files
    left join networks
        on customers.customer_id = networks.customer_id
    left join email
        on customers.customer_id = email.customer_id
    left join referrals_made
        on customers.customer_id = referrals_made.customer_id
    left join referees
        on customers.customer_id = referees.customer_id
),

points as (
    select
        joined.*,
        case
            when joined.has_social_profiles_file or joined.has_email_events_file or joined.has_referrals_file
                then coalesce(joined.posting_points, 0)
                    + social_settings.active_network_points * coalesce(joined.active_network_count, 0)
                    + social_settings.forward_recipient_points * coalesce(joined.email_forward_recipient_count, 0)
                    + social_settings.converted_referee_points * coalesce(joined.converted_referee_count, 0)
        end as participation_points
    from joined
    cross join social_settings
),

final as (
    select
        points.customer_id,
        points.has_social_profiles_file,
        points.has_email_events_file,
        points.has_referrals_file,
        points.social_network_count,
        points.active_network_count,
        points.public_network_count,
        points.tight_knit_network_count,
        points.posts_90d,
        points.brand_mentions_90d,
        points.email_forward_recipient_count,
        points.referral_count,
        points.converted_referee_count,
        points.participation_points,
        100 * points.participation_points
        / (points.participation_points + social_settings.participation_half_saturation) as participation_score
    from points
    cross join social_settings
)

select * from final
