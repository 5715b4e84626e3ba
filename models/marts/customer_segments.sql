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

settings as (
    select * from {{ ref('int_analysis_settings') }}
),

margin_to_date as (
    select
        customer_id,
        sum(amount) as net_revenue_to_date,
        sum(margin) as historical_clv
    from transactions
    group by customer_id
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
        trees.root_referrer_customer_id
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
    where customers.created_at < settings.as_of_cutoff_at
),

ranked as (
    select
        *,
        case when predicted_clv is not null then percent_rank() over (order by predicted_clv) end
            as predicted_clv_percentile,
        case when crv is not null then percent_rank() over (order by crv) end as crv_percentile
    from joined
),

final as (
    select
        ranked.*,
        ranked.predicted_clv_percentile >= {{ var('high_clv_percentile') }} as is_high_clv,
        ranked.crv_percentile >= {{ var('high_crv_percentile') }} as is_high_crv,
        case
            when ranked.predicted_clv_percentile is null or ranked.crv_percentile is null then null
            when ranked.predicted_clv_percentile >= {{ var('high_clv_percentile') }}
                and ranked.crv_percentile >= {{ var('high_crv_percentile') }} then 'champion'
            when ranked.predicted_clv_percentile >= {{ var('high_clv_percentile') }} then 'affluent'
            when ranked.crv_percentile >= {{ var('high_crv_percentile') }} then 'advocate'
            else 'miser'
        end as value_segment,
        ranked.is_prospect and ranked.paying_referee_count > 0 as is_prospect_with_referral_value
    from ranked
)

select * from final
