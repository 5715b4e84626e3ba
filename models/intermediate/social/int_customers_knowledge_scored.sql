-- Social value part 1, knowledge and involvement, one row per customer known on as_of_date:
-- docs/measures.md, "Social value".
with

customers as (
    select * from {{ ref('int_customers_filtered') }}
),

activity as (
    select * from {{ ref('stg_raw__community_activity') }}
),

activity_weights as (
    select * from {{ ref('community_activity_weights') }}
),

files as (
    select * from {{ ref('int_raw_files_detected') }}
),

social_settings as (
    select * from {{ ref('int_social_settings') }}
),

settings as (
    select * from {{ ref('int_analysis_settings') }}
),

activity_to_date as (
    select activity.*
    from activity
    cross join settings
    where activity.occurred_at < settings.as_of_cutoff_at
),

activity_points as (
    select
        activity_to_date.activity_id,
        activity_to_date.customer_id,
        activity_to_date.product_category,
        activity_to_date.occurred_at,
        coalesce(activity_to_date.helpful_votes, 0) as helpful_votes,
        coalesce(activity_weights.activity_points, 0)
        * (1 + social_settings.knowledge_helpful_vote_weight * ln(1 + coalesce(activity_to_date.helpful_votes, 0)))
        * power(
            0.5,
            greatest({{ day_diff('cast(activity_to_date.occurred_at as date)', 'settings.as_of_date') }}, 0)
            / social_settings.knowledge_half_life_days
        ) as activity_points
    from activity_to_date
    cross join settings
    cross join social_settings
    left join activity_weights
        on activity_to_date.activity_type = activity_weights.activity_type
),

per_customer as (
    select
        activity_points.customer_id,
        count(*) as community_activity_count,
        cast(sum(activity_points.helpful_votes) as bigint) as community_helpful_votes,
        count(distinct activity_points.product_category) as community_category_count,
        max(activity_points.occurred_at) as last_community_activity_at,
        {{ ordered_sum('activity_points.activity_points', 'activity_points.activity_id') }}
        * (
            1 + any_value(social_settings.knowledge_category_bonus)
            * greatest(count(distinct activity_points.product_category) - 1, 0)
        ) as knowledge_points
    from activity_points
    cross join social_settings
    group by activity_points.customer_id
),

-- Zero for a customer without activity, NULL for everyone without the file.
joined as (
    select
        customers.customer_id,
        files.has_community_activity_file,
        case when files.has_community_activity_file then coalesce(per_customer.community_activity_count, 0) end
            as community_activity_count,
        case when files.has_community_activity_file then coalesce(per_customer.community_helpful_votes, 0) end
            as community_helpful_votes,
        case when files.has_community_activity_file then coalesce(per_customer.community_category_count, 0) end
            as community_category_count,
        per_customer.last_community_activity_at,
        case when files.has_community_activity_file then coalesce(per_customer.knowledge_points, 0) end
            as knowledge_points
    from customers
    cross join files
    left join per_customer
        on customers.customer_id = per_customer.customer_id
),

final as (
    select
        joined.*,
        100 * joined.knowledge_points / (joined.knowledge_points + social_settings.knowledge_half_saturation)
            as knowledge_score
    from joined
    cross join social_settings
)

select * from final
