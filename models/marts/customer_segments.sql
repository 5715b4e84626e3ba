-- One row per customer known on as_of_date, prospects included: who they are (no
-- personal data in clear text), what they are worth, and their segment.
with

customers as (
    select * from {{ ref('stg_raw__customers') }}
),

transactions as (
    select * from {{ ref('int_transactions_costed') }}
),

rfm as (
    select * from {{ ref('int_customers_rfm_summarised') }}
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

margin_to_date as (
    select
        transactions.customer_id,
        sum(transactions.amount) as net_revenue_to_date,
        sum(transactions.margin) as historical_clv,
        sum(transactions.amount) filter (
            where transactions.transacted_at
            >= settings.as_of_cutoff_at - to_months({{ var('light_buyer_window_months') }})
        ) as recent_net_revenue
    from transactions
    cross join settings
    group by transactions.customer_id
),

joined as (
    select
        customers.customer_id,
        customers.email_sha256,
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
        coalesce(margin_to_date.net_revenue_to_date, 0) as net_revenue_to_date,
        coalesce(margin_to_date.historical_clv, 0) as historical_clv,
        clv.probability_alive,
        clv.expected_purchases,
        clv.expected_spend,
        case when rfm.customer_id is null then 0 else clv.predicted_clv end as predicted_clv,
        case
            when rfm.customer_id is null then 'prospect: no purchases to model, predicted CLV is 0'
            else coalesce(clv.clv_prediction_reason, 'predicted')
        end as clv_status,
        crv.converted_referral_count,
        crv.paying_referee_count,
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
        coalesce(margin_to_date.recent_net_revenue, 0) as recent_net_revenue,
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
        social_scores.social_data_coverage,
        social_scores.social_score_note
    from customers
    cross join settings
    left join rfm
        on customers.customer_id = rfm.customer_id
    left join margin_to_date
        on customers.customer_id = margin_to_date.customer_id
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
    where customers.created_at < settings.as_of_cutoff_at
),

ranked as (
    select
        *,
        case when predicted_clv is not null then percent_rank() over (order by predicted_clv) end
            as predicted_clv_percentile,
        case when crv is not null then percent_rank() over (order by crv) end as crv_percentile,
        case
            when not is_prospect
                then percent_rank() over (partition by is_prospect order by recent_net_revenue)
        end as recent_spend_percentile
    from joined
),

flagged as (
    select
        *,
        predicted_clv_percentile >= {{ var('high_clv_percentile') }} as is_high_clv,
        crv_percentile >= {{ var('high_crv_percentile') }} as is_high_crv,
        coalesce(social_score_percentile >= {{ var('high_social_percentile') }}, false) as is_high_social,
        not is_prospect
        and recent_spend_percentile < {{ var('light_buyer_spend_percentile') }}
        and coalesce(share_of_wallet >= {{ var('loyal_share_of_wallet') }}, false) as is_loyal_light_buyer,
        coalesce(
            (forward_count > 0 and forward_percentile >= {{ var('email_advocate_percentile') }})
            or (
                open_percentile >= {{ var('email_advocate_percentile') }}
                and click_percentile >= {{ var('email_advocate_percentile') }}
            ),
            false
        ) as is_email_advocate
    from ranked
),

final as (
    select
        *,
        case
            when is_high_clv is null or is_high_crv is null then null
            when is_high_clv and is_high_crv then 'champion'
            when is_high_clv then 'affluent'
            when is_high_crv then 'advocate'
            else 'miser'
        end as value_segment,
        coalesce(is_high_clv, false) and is_high_social as is_ambassador,
        is_prospect and paying_referee_count > 0 as is_prospect_with_referral_value,
        case
            when not is_loyal_light_buyer then false
            when email_engagement_status = 'no_email_events_file' then null
            else email_engagement_status = 'delivered'
                and not has_unsubscribed
                and not has_complained
                and coalesce(days_since_last_click >= {{ var('share_prompt_window_days') }}, true)
        end as is_due_share_prompt
    from flagged
)

select * from final
