-- The weights and scales of the social score as one row (vars documented in
-- dbt_project.yml and docs/settings.md).
with

final as (
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
)

select * from final
