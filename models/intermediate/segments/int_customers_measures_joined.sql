-- One row per customer known on as_of_date, prospects included, with every measure
-- the segments are judged on: purchase summary, historical and predicted CLV, CRV and
-- the referral network, share of wallet, email engagement and social score. Joins
-- only; each measure is computed in its own model.
with

customers as (
    select * from {{ ref('int_customers_filtered') }}
),

rfm as (
    select * from {{ ref('int_customers_rfm_summarised') }}
),

purchase_days as (
    select * from {{ ref('int_purchase_days_aggregated') }}
),

margins as (
    select * from {{ ref('int_customers_margin_summarised') }}
),

clv as (
    select * from {{ ref('int_customers_clv_predicted') }}
),

crv as (
    select * from {{ ref('int_customers_crv_computed') }}
),

trees as (
    select * from {{ ref('int_referral_trees_walked') }}
),

wallet_shares as (
    select * from {{ ref('int_wallet_shares_estimated') }}
),

email_engagement as (
    select * from {{ ref('int_email_engagement_aggregated') }}
),

social_scores as (
    select * from {{ ref('int_social_scores_computed') }}
),

settings as (
    select * from {{ ref('int_analysis_settings') }}
),

segment_settings as (
    select * from {{ ref('int_segment_settings') }}
),

-- The recent window of the segments: the last light_buyer_window_months up to as_of_date.
recent_window as (
    select
        cast(
            settings.as_of_cutoff_at - to_months(segment_settings.light_buyer_window_months) as date
        ) as window_starts_on
    from settings
    cross join segment_settings
),

recent_spend as (
    select
        purchase_days.customer_id,
        sum(purchase_days.net_amount) as recent_net_revenue
    from purchase_days
    cross join recent_window
    where purchase_days.purchase_day >= recent_window.window_starts_on
    group by purchase_days.customer_id
),

final as (
    select
        customers.customer_id,
        customers.email_key,
        customers.created_at,
        customers.acquisition_channel,
        customers.country,
        settings.as_of_date,
        settings.reporting_currency,
        rfm.customer_id is null as is_prospect,
        rfm.first_purchase_on,
        rfm.last_purchase_on,
        coalesce(rfm.purchase_day_count, 0) as purchase_day_count,
        rfm.frequency,
        rfm.recency_weeks,
        rfm.t_weeks,
        rfm.monetary_value,
        coalesce(margins.net_revenue_to_date, 0) as net_revenue_to_date,
        coalesce(margins.historical_clv, 0) as historical_clv,
        coalesce(margins.refund_count, 0) as refund_count,
        coalesce(recent_spend.recent_net_revenue, 0) as recent_net_revenue,
        coalesce(rfm.last_purchase_on >= recent_window.window_starts_on, false) as has_bought_in_window,
        clv.probability_alive,
        clv.expected_purchases,
        clv.expected_spend,
        case when rfm.customer_id is null then 0 else clv.predicted_clv end as predicted_clv,
        clv.predicted_clv_if_alive,
        case when rfm.customer_id is null then 0 else clv.predicted_clv_low end as predicted_clv_low,
        case when rfm.customer_id is null then 0 else clv.predicted_clv_high end as predicted_clv_high,
        case
            when rfm.customer_id is null then 'prospect'
            when clv.predicted_clv is null then 'not_fitted'
            else 'predicted'
        end as clv_status,
        case
            when rfm.customer_id is null then 'Never bought: no purchase process to model, predicted CLV is 0.'
            else clv.clv_prediction_reason
        end as clv_note,
        crv.converted_referral_count,
        crv.paying_referee_count,
        crv.referrals_made_count,
        crv.referral_rate_multiple,
        crv.referral_rate_credible_multiple,
        crv.referral_alive_probability,
        crv.expected_future_referrals,
        crv.realized_crv,
        crv.expected_crv,
        crv.indirect_referral_value,
        crv.crv,
        crv.crv_status,
        trees.direct_referee_count,
        trees.indirect_referee_count,
        trees.referral_depth,
        trees.referral_tree_depth,
        trees.root_referrer_customer_id,
        wallet_shares.share_of_wallet,
        wallet_shares.share_of_wallet_source,
        wallet_shares.share_of_wallet_missing_reason,
        wallet_shares.is_share_of_wallet_capped,
        wallet_shares.survey_responded_at,
        wallet_shares.likelihood_to_recommend,
        email_engagement.email_engagement_status,
        email_engagement.delivered_message_count,
        email_engagement.unique_open_rate,
        email_engagement.unique_click_rate,
        email_engagement.forward_count,
        email_engagement.forward_recipient_count,
        email_engagement.last_delivered_at,
        email_engagement.days_since_last_delivery,
        email_engagement.last_clicked_at,
        email_engagement.days_since_last_click,
        email_engagement.has_unsubscribed,
        email_engagement.has_complained,
        email_engagement.open_percentile,
        email_engagement.click_percentile,
        email_engagement.forward_percentile,
        social_scores.knowledge_score,
        social_scores.participation_score,
        social_scores.reach_score,
        social_scores.social_score,
        social_scores.social_score_percentile,
        social_scores.social_score_status,
        social_scores.social_data_coverage,
        social_scores.social_score_note
    from customers
    cross join settings
    cross join recent_window
    left join rfm
        on customers.customer_id = rfm.customer_id
    left join margins
        on customers.customer_id = margins.customer_id
    left join recent_spend
        on customers.customer_id = recent_spend.customer_id
    left join clv
        on customers.customer_id = clv.customer_id
    left join crv
        on customers.customer_id = crv.customer_id
    left join trees
        on customers.customer_id = trees.customer_id
    left join wallet_shares
        on customers.customer_id = wallet_shares.customer_id
    left join email_engagement
        on customers.customer_id = email_engagement.customer_id
    left join social_scores
        on customers.customer_id = social_scores.customer_id
)

select * from final
