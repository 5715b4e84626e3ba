-- Social value per customer known on as_of_date, in three parts after Mary Beth Kemp's
-- social value scorecard (shared/domain.md), each 0-100, from data up to as_of_date:
--   knowledge (knowledge and involvement, community_activity): each activity earns the
--     points of its type (seed community_activity_weights) x (1 + w x ln(1 + helpful
--     votes)) x 0.5 ^ (age in days / half-life); the sum is raised by a bonus per
--     product category beyond the first (breadth);
--   participation (participation and the value of connections): per network, posts and
--     brand mentions x the network's participation weight (seed social_network_weights:
--     tight-knit communities above diffuse ones) x the audience weight (public or
--     intimate), plus points per network the customer is active in, per recipient of an
--     email forward, and per converted referee they brought (int_referrals_valued, each
--     referee credited to the earliest referral that converted them);
--   reach: contacts (followers) across networks x the network's reach weight, on a log
--     scale: 100 x log10(1 + contacts) / log10(1 + var social_reach_full_score_contacts),
--     capped at 100.
-- Knowledge and participation points become scores with a saturation curve,
-- 100 x points / (points + half-saturation), so 50 at the half-saturation var and
-- never dependent on another customer's outlier. A part is NULL when the customer has
-- no data for it; social_score is the weighted mean of the parts that have data
-- (weights re-normalised over them) and NULL when none has. Every constant is a var
-- (dbt_project.yml) or a seed.
with

customers as (
    select * from {{ ref('stg_raw__customers') }}
),

activity as (
    select * from {{ ref('stg_raw__community_activity') }}
),

profiles as (
    select * from {{ ref('stg_raw__social_profiles') }}
),

referrals as (
    select * from {{ ref('stg_raw__referrals') }}
),

credited_referrals as (
    select * from {{ ref('int_referrals_valued') }}
),

email as (
    select * from {{ ref('int_email_engagement_aggregated') }}
),

network_weights as (
    select * from {{ ref('social_network_weights') }}
),

activity_weights as (
    select * from {{ ref('community_activity_weights') }}
),

inventory as (
    select * from {{ ref('stg_raw__table_inventory') }}
),

settings as (
    select * from {{ ref('int_analysis_settings') }}
),

parameters as (
    select
        cast({{ var('social_knowledge_helpful_vote_weight') }} as double) as knowledge_helpful_vote_weight,
        cast({{ var('social_knowledge_half_life_days') }} as double) as knowledge_half_life_days,
        cast({{ var('social_knowledge_category_bonus') }} as double) as knowledge_category_bonus,
        cast({{ var('social_knowledge_half_saturation') }} as double) as knowledge_half_saturation,
        cast({{ var('social_post_points') }} as double) as post_points,
        cast({{ var('social_brand_mention_points') }} as double) as brand_mention_points,
        cast({{ var('social_active_network_points') }} as double) as active_network_points,
        cast({{ var('social_public_audience_weight') }} as double) as public_audience_weight,
        cast({{ var('social_intimate_audience_weight') }} as double) as intimate_audience_weight,
        cast({{ var('social_forward_recipient_points') }} as double) as forward_recipient_points,
        cast({{ var('social_converted_referee_points') }} as double) as converted_referee_points,
        cast({{ var('social_participation_half_saturation') }} as double) as participation_half_saturation,
        cast({{ var('social_reach_full_score_contacts') }} as double) as reach_full_score_contacts,
        cast({{ var('social_knowledge_weight') }} as double) as knowledge_weight,
        cast({{ var('social_participation_weight') }} as double) as participation_weight,
        cast({{ var('social_reach_weight') }} as double) as reach_weight
),

known_customers as (
    select customers.customer_id
    from customers
    cross join settings
    where customers.created_at < settings.as_of_cutoff_at
),

files as (
    select
        coalesce(bool_or(is_present) filter (where table_name = 'referrals'), false) as has_referrals_file,
        string_agg(table_name, ', ' order by table_name) filter (
            where table_name in ('community_activity', 'social_profiles', 'email_events', 'referrals')
            and not is_present
        ) as absent_social_files
    from inventory
),

-- Knowledge and involvement.
activity_points as (
    select
        activity.customer_id,
        activity.product_category,
        activity.occurred_at,
        coalesce(activity.helpful_votes, 0) as helpful_votes,
        coalesce(activity_weights.activity_points, 0)
        * (1 + parameters.knowledge_helpful_vote_weight * ln(1 + coalesce(activity.helpful_votes, 0)))
        * power(
            0.5,
            greatest(date_diff('day', cast(activity.occurred_at as date), settings.as_of_date), 0)
            / parameters.knowledge_half_life_days
        ) as activity_points
    from activity
    cross join settings
    cross join parameters
    left join activity_weights
        on activity.activity_type = activity_weights.activity_type
    where activity.occurred_at < settings.as_of_cutoff_at
),

knowledge as (
    select
        activity_points.customer_id,
        count(*) as community_activity_count,
        cast(sum(activity_points.helpful_votes) as bigint) as community_helpful_votes,
        count(distinct activity_points.product_category) as community_category_count,
        max(activity_points.occurred_at) as last_community_activity_at,
        sum(activity_points.activity_points)
        * (
            1 + any_value(parameters.knowledge_category_bonus)
            * greatest(count(distinct activity_points.product_category) - 1, 0)
        ) as knowledge_points
    from activity_points
    cross join parameters
    group by activity_points.customer_id
),

-- Participation and reach, per network.
profiles_weighted as (
    select
        profiles.customer_id,
        profiles.network,
        coalesce(profiles.followers, 0) as followers,
        profiles.followers is not null as has_followers,
        coalesce(profiles.posts_90d, 0) as posts_90d,
        coalesce(profiles.brand_mentions_90d, 0) as brand_mentions_90d,
        coalesce(profiles.posts_90d, 0) > 0 as is_active,
        coalesce(profiles.is_public, false) as is_public,
        network_weights.community_type = 'tight_knit' as is_tight_knit,
        coalesce(network_weights.participation_weight, 0)
        * case
            when profiles.is_public then parameters.public_audience_weight
            else parameters.intimate_audience_weight
        end
        * (
            parameters.post_points * coalesce(profiles.posts_90d, 0)
            + parameters.brand_mention_points * coalesce(profiles.brand_mentions_90d, 0)
        ) as posting_points,
        coalesce(network_weights.reach_weight, 0) * coalesce(profiles.followers, 0) as weighted_contacts
    from profiles
    cross join settings
    cross join parameters
    left join network_weights
        on profiles.network = network_weights.network
    where profiles.observed_at < settings.as_of_cutoff_at
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
        sum(posting_points) as posting_points,
        count(*) filter (where has_followers) > 0 as has_follower_data,
        sum(followers) as total_followers,
        sum(weighted_contacts) as weighted_contacts
    from profiles_weighted
    group by customer_id
),

referral_attempts as (
    select
        referrals.referrer_customer_id as customer_id,
        count(*) as referral_count
    from referrals
    cross join settings
    where referrals.referred_at < settings.as_of_cutoff_at
    group by referrals.referrer_customer_id
),

referees as (
    select
        referrer_customer_id as customer_id,
        count(*) as converted_referee_count
    from credited_referrals
    group by referrer_customer_id
),

joined as (
    select
        known_customers.customer_id,
        knowledge.community_activity_count,
        knowledge.community_helpful_votes,
        knowledge.community_category_count,
        knowledge.last_community_activity_at,
        knowledge.knowledge_points,
        networks.social_network_count,
        networks.active_network_count,
        networks.public_network_count,
        networks.tight_knit_network_count,
        networks.posts_90d,
        networks.brand_mentions_90d,
        networks.has_follower_data,
        networks.total_followers,
        networks.weighted_contacts,
        email.forward_recipient_count as email_forward_recipient_count,
        case when files.has_referrals_file then coalesce(referral_attempts.referral_count, 0) end as referral_count,
        case
            when files.has_referrals_file then coalesce(referees.converted_referee_count, 0)
        end as converted_referee_count,
        knowledge.customer_id is not null as has_knowledge_data,
        networks.customer_id is not null
        or coalesce(email.forward_count, 0) > 0
        or referral_attempts.customer_id is not null as has_participation_data,
        coalesce(networks.has_follower_data, false) as has_reach_data,
        coalesce(networks.posting_points, 0)
        + parameters.active_network_points * coalesce(networks.active_network_count, 0)
        + parameters.forward_recipient_points * coalesce(email.forward_recipient_count, 0)
        + parameters.converted_referee_points * coalesce(referees.converted_referee_count, 0)
            as participation_points
    from known_customers
    cross join parameters
    cross join files
    left join knowledge
        on known_customers.customer_id = knowledge.customer_id
    left join networks
        on known_customers.customer_id = networks.customer_id
    left join email
        on known_customers.customer_id = email.customer_id
    left join referral_attempts
        on known_customers.customer_id = referral_attempts.customer_id
    left join referees
        on known_customers.customer_id = referees.customer_id
),

scored as (
    select
        joined.*,
        case
            when joined.has_knowledge_data
                then 100 * joined.knowledge_points / (joined.knowledge_points + parameters.knowledge_half_saturation)
        end as knowledge_score,
        case
            when joined.has_participation_data
                then 100 * joined.participation_points
                    / (joined.participation_points + parameters.participation_half_saturation)
        end as participation_score,
        case
            when joined.has_reach_data
                then 100 * least(
                        1.0,
                        log10(1 + joined.weighted_contacts) / log10(1 + parameters.reach_full_score_contacts)
                    )
        end as reach_score
    from joined
    cross join parameters
),

combined as (
    select
        scored.*,
        cast(scored.has_knowledge_data as integer)
        + cast(scored.has_participation_data as integer)
        + cast(scored.has_reach_data as integer) as social_parts_with_data,
        concat_ws(
            ', ',
            case when scored.has_knowledge_data then 'knowledge' end,
            case when scored.has_participation_data then 'participation' end,
            case when scored.has_reach_data then 'reach' end
        ) as parts_with_data,
        (
            coalesce(parameters.knowledge_weight * scored.knowledge_score, 0)
            + coalesce(parameters.participation_weight * scored.participation_score, 0)
            + coalesce(parameters.reach_weight * scored.reach_score, 0)
        )
        / nullif(
            case when scored.has_knowledge_data then parameters.knowledge_weight else 0 end
            + case when scored.has_participation_data then parameters.participation_weight else 0 end
            + case when scored.has_reach_data then parameters.reach_weight else 0 end,
            0
        ) as social_score
    from scored
    cross join parameters
),

final as (
    select
        combined.customer_id,
        combined.community_activity_count,
        combined.community_helpful_votes,
        combined.community_category_count,
        combined.last_community_activity_at,
        combined.knowledge_points,
        combined.knowledge_score,
        combined.social_network_count,
        combined.active_network_count,
        combined.public_network_count,
        combined.tight_knit_network_count,
        combined.posts_90d,
        combined.brand_mentions_90d,
        combined.email_forward_recipient_count,
        combined.referral_count,
        combined.converted_referee_count,
        case when combined.has_participation_data then combined.participation_points end as participation_points,
        combined.participation_score,
        combined.total_followers,
        case when combined.has_reach_data then combined.weighted_contacts end as weighted_contacts,
        combined.reach_score,
        combined.social_parts_with_data,
        case
            when combined.social_parts_with_data = 0 then 'none'
            else combined.parts_with_data
        end as social_data_coverage,
        combined.social_parts_with_data between 1 and 2 as is_social_score_reweighted,
        combined.social_score,
        case
            when combined.social_score is not null
                then percent_rank() over (
                        partition by combined.social_score is not null
                        order by combined.social_score
                    )
        end as social_score_percentile,
        concat_ws(
            '; ',
            case
                when combined.social_parts_with_data = 0 then 'no social data: score unknown'
                when combined.social_parts_with_data < 3
                    then 'partial: weighted mean of ' || combined.parts_with_data || ' only'
                else 'all three parts'
            end,
            case
                when files.absent_social_files is not null
                    then 'files absent: ' || files.absent_social_files
            end
        ) as social_score_note
    from combined
    cross join files
)

select * from final
