{{ config(materialized='table_in_passes') }}
-- The social score, one row per customer known on as_of_date: docs/measures.md,
-- "Social value".
with

customers as (
    select * from {{ ref('int_customers_filtered') }}
    where {{ in_customer_pass('customer_id') }}
),

knowledge as (
    select * from {{ ref('int_customers_knowledge_scored') }}
    where {{ in_customer_pass('customer_id') }}
),

participation as (
    select * from {{ ref('int_customers_participation_scored') }}
    where {{ in_customer_pass('customer_id') }}
),

reach as (
    select * from {{ ref('int_customers_reach_scored') }}
    where {{ in_customer_pass('customer_id') }}
),

-- Every customer's three part scores, unfiltered: the percentile rank below is taken
-- among all customers, also when the model is built in passes over customer buckets.
population as {{ not_materialized() }} (
    select
        population_customers.customer_id,
        population_knowledge.knowledge_score,
        population_participation.participation_score,
        population_reach.reach_score
    from {{ ref('int_customers_filtered') }} as population_customers
    left join {{ ref('int_customers_knowledge_scored') }} as population_knowledge
        on population_customers.customer_id = population_knowledge.customer_id
    left join {{ ref('int_customers_participation_scored') }} as population_participation
        on population_customers.customer_id = population_participation.customer_id
    left join {{ ref('int_customers_reach_scored') }} as population_reach
        on population_customers.customer_id = population_reach.customer_id
),

files as (
    select * from {{ ref('int_raw_files_detected') }}
),

social_settings as (
    select * from {{ ref('int_social_settings') }}
),

-- Which parts are known in this build, and which social files are absent.
parts_known as (
    select
        has_community_activity_file as is_knowledge_known,
        has_social_profiles_file or has_email_events_file or has_referrals_file as is_participation_known,
        has_social_profiles_file as is_reach_known,
        nullif(
            concat_ws(
                ', ',
                case when not has_community_activity_file then 'community_activity' end,
                case when not has_email_events_file then 'email_events' end,
                case when not has_referrals_file then 'referrals' end,
                case when not has_social_profiles_file then 'social_profiles' end
            ),
            ''
        ) as absent_social_files
    from files
),

coverage as (
    select
        *,
        cast(is_knowledge_known as integer)
        + cast(is_participation_known as integer)
        + cast(is_reach_known as integer) as social_parts_with_data,
        nullif(
            concat_ws(
                ', ',
                case when is_knowledge_known then 'knowledge' end,
                case when is_participation_known then 'participation' end,
                case when is_reach_known then 'reach' end
            ),
            ''
        ) as known_parts
    from parts_known
),

-- Not materialized: the ranking below reads only the scores of these rows, so DuckDB
-- computes the narrow rows for it instead of keeping every wide row in memory.
joined as {{ not_materialized() }} (
    select
        customers.customer_id,
        knowledge.community_activity_count,
        knowledge.community_helpful_votes,
        knowledge.community_category_count,
        knowledge.last_community_activity_at,
        knowledge.knowledge_points,
        knowledge.knowledge_score,
        participation.social_network_count,
        participation.active_network_count,
        participation.public_network_count,
        participation.tight_knit_network_count,
        participation.posts_90d,
        participation.brand_mentions_90d,
        participation.email_forward_recipient_count,
        participation.referral_count,
        participation.converted_referee_count,
        participation.participation_points,
        participation.participation_score,
        reach.total_followers,
        reach.weighted_contacts,
        reach.reach_score
    from customers
    left join knowledge
        on customers.customer_id = knowledge.customer_id
    left join participation
        on customers.customer_id = participation.customer_id
    left join reach
        on customers.customer_id = reach.customer_id
),

-- The weights of the known parts; an unknown part weighs 0.
part_weights as (
    select
        case when coverage.is_knowledge_known then social_settings.knowledge_weight else 0 end as knowledge_weight,
        case
            when coverage.is_participation_known then social_settings.participation_weight else 0
        end as participation_weight,
        case when coverage.is_reach_known then social_settings.reach_weight else 0 end as reach_weight
    from coverage
    cross join social_settings
),

-- A known part without a value for the customer counts 0, never drops out. The same score
-- for the customers of this pass (scored) and for every customer (population_scored).
{% for scored, parts in [('scored', 'joined'), ('population_scored', 'population')] %}
    {{ scored }} as {{ not_materialized() }} (
        select
            {{ parts }}.*,
            (
                part_weights.knowledge_weight * coalesce({{ parts }}.knowledge_score, 0)
                + part_weights.participation_weight * coalesce({{ parts }}.participation_score, 0)
                + part_weights.reach_weight * coalesce({{ parts }}.reach_score, 0)
            )
            / nullif(
                part_weights.knowledge_weight + part_weights.participation_weight + part_weights.reach_weight,
                0
            ) as social_score
        from {{ parts }}
        cross join part_weights
    ),

{% endfor %}
-- Ranked among the customers with any social activity only: most customers score 0, and a
-- rank among everyone would put a quarter of all customers in the top quarter.
ranked as (
    select
        customer_id,
        percent_rank() over (order by social_score) as social_score_percentile
    from population_scored
    where social_score > 0
    -- After the window: the ranks of this pass's customers only, for the join below.
    qualify {{ in_customer_pass('customer_id') }}
),

final as (
    select
        scored.*,
        ranked.social_score_percentile,
        coverage.social_parts_with_data,
        coalesce(coverage.known_parts, 'none') as social_data_coverage,
        coverage.social_parts_with_data between 1 and 2 as is_social_score_reweighted,
        case
            when coverage.social_parts_with_data = 3 then 'all_parts'
            when coverage.social_parts_with_data > 0 then 'reweighted'
            else 'unknown'
        end as social_score_status,
        coverage.absent_social_files,
        concat_ws(
            '; ',
            case
                when coverage.social_parts_with_data = 3 then 'all three parts'
                when coverage.social_parts_with_data > 0
                    then 'partial: weighted mean of ' || coverage.known_parts || ' only'
                else 'no social data files: score unknown'
            end,
            case
                when coverage.absent_social_files is not null
                    then 'files absent: ' || coverage.absent_social_files
            end
        ) as social_score_note
    from scored
    cross join coverage
    left join ranked
        on scored.customer_id = ranked.customer_id
)

select * from final
