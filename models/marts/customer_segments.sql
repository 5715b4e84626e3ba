{{ config(materialized='table_in_passes') }}
-- One row per customer known on as_of_date, prospects included: who they are (no
-- personal data in clear text), what they are worth, their segment and the one
-- action marketing takes with them. What BI tools and analysts query.
with

segmented as (
    select * from {{ ref('int_customers_segmented') }}
    where {{ in_customer_pass('customer_id') }}
),

actions as (
    select * from {{ ref('int_customers_actions_recommended') }}
    where {{ in_customer_pass('customer_id') }}
),

value_segments as (
    select * from {{ ref('value_segments') }}
),

rejections as (
    select * from {{ ref('int_customers_rejections_counted') }}
    where {{ in_customer_pass('customer_id') }}
),

final as (
    select
        segmented.customer_id,
        segmented.email_key,
        segmented.created_at,
        segmented.acquisition_channel,
        segmented.country,
        segmented.as_of_date,
        segmented.reporting_currency,
        segmented.value_segment,
        value_segments.value_segment_label,
        segmented.segment_status,
        actions.recommended_action,
        actions.recommended_action_text,
        actions.recommended_action_channel,
        actions.recommended_action_reason,
        segmented.is_prospect,
        segmented.first_purchase_on,
        segmented.last_purchase_on,
        segmented.purchase_day_count,
        segmented.frequency,
        segmented.recency_weeks,
        segmented.t_weeks,
        {{ money('segmented.monetary_value') }} as monetary_value,
        {{ money('segmented.net_revenue_to_date') }} as net_revenue_to_date,
        segmented.refund_count,
        {{ money('segmented.historical_clv') }} as historical_clv,
        segmented.probability_alive,
        segmented.expected_purchases,
        {{ money('segmented.expected_spend') }} as expected_spend,
        {{ money('segmented.predicted_clv') }} as predicted_clv,
        {{ money('segmented.predicted_clv_low') }} as predicted_clv_low,
        {{ money('segmented.predicted_clv_high') }} as predicted_clv_high,
        {{ money('segmented.predicted_clv_if_alive') }} as predicted_clv_if_alive,
        segmented.clv_status,
        segmented.clv_note,
        segmented.converted_referral_count,
        segmented.paying_referee_count,
        segmented.referrals_made_count,
        segmented.referral_rate_multiple,
        segmented.referral_rate_credible_multiple,
        segmented.referral_alive_probability,
        segmented.expected_future_referrals,
        {{ money('segmented.realized_crv') }} as realized_crv,
        {{ money('segmented.expected_crv') }} as expected_crv,
        {{ money('segmented.indirect_referral_value') }} as indirect_referral_value,
        {{ money('segmented.crv') }} as crv,
        segmented.crv_status,
        segmented.crv_evidence,
        segmented.direct_referee_count,
        segmented.indirect_referee_count,
        cast(segmented.referral_depth as bigint) as referral_depth,
        cast(segmented.referral_tree_depth as bigint) as referral_tree_depth,
        segmented.root_referrer_customer_id,
        {{ money('segmented.recent_net_revenue') }} as recent_net_revenue,
        segmented.share_of_wallet,
        segmented.share_of_wallet_source,
        segmented.share_of_wallet_missing_reason,
        segmented.is_share_of_wallet_capped,
        segmented.survey_responded_at,
        segmented.likelihood_to_recommend,
        segmented.email_engagement_status,
        segmented.delivered_message_count,
        segmented.unique_open_rate,
        segmented.unique_click_rate,
        cast(segmented.forward_count as bigint) as forward_count,
        cast(segmented.forward_recipient_count as bigint) as forward_recipient_count,
        segmented.last_delivered_at,
        segmented.days_since_last_delivery,
        segmented.last_clicked_at,
        segmented.days_since_last_click,
        segmented.has_unsubscribed,
        segmented.has_complained,
        segmented.open_percentile,
        segmented.click_percentile,
        segmented.forward_percentile,
        segmented.knowledge_score,
        segmented.participation_score,
        segmented.reach_score,
        segmented.social_score,
        segmented.social_score_percentile,
        segmented.social_score_status,
        segmented.social_data_coverage,
        segmented.social_score_note,
        segmented.segment_clv_measure,
        segmented.segment_clv_percentile as clv_percentile,
        segmented.historical_clv_percentile,
        segmented.crv_percentile,
        segmented.referral_evidence_percentile,
        segmented.predicted_clv_if_alive_percentile,
        segmented.recent_spend_percentile,
        segmented.is_active,
        segmented.is_high_clv,
        segmented.is_high_crv,
        segmented.is_high_social,
        segmented.is_email_advocate,
        segmented.is_ambassador,
        segmented.ambassador_evidence,
        segmented.is_loyal_light_buyer,
        segmented.is_due_share_prompt,
        segmented.is_likely_departed,
        segmented.is_lapsing_high_value,
        segmented.is_lapsed_high_value,
        segmented.is_departed_referrer,
        segmented.is_prospect_with_referral_value,
        rejections.customer_id is not null as has_rejected_rows,
        coalesce(rejections.rejected_row_count, 0) as rejected_row_count,
        rejections.rejected_row_tables,
        {{ built_at() }} as built_at
    from segmented
    inner join actions
        on segmented.customer_id = actions.customer_id
    inner join value_segments
        on segmented.value_segment = value_segments.value_segment
    left join rejections
        on segmented.customer_id = rejections.customer_id
)

select * from final
