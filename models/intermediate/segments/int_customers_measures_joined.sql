-- One row per customer known on as_of_date, prospects included, with every measure
-- the segments are judged on: the CLV subject (purchase summary, historical and
-- predicted CLV, recent spend), CRV and the referral network, share of wallet, email
-- engagement and social score. Joins only: each subject's model is one row per known
-- customer (or per buyer) and computes its own columns; this model takes every column
-- of each, so a new measure reaches the segments without being listed here. The one
-- full list of the published columns is the contract of marts.customer_segments
-- (models/marts/_marts__models.yml).
with

customers as (
    select * from {{ ref('int_customers_filtered') }}
),

settings as (
    select * from {{ ref('int_analysis_settings') }}
),

clv as (
    select * from {{ ref('int_customers_clv_summarised') }}
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

final as (
    -- The names in exclude () are columns of the star before them, which sqlfluff cannot
    -- tell (RF02).
    select
        -- The email in clear text stays behind: email_key is the published customer key.
        customers.* exclude (email),  -- noqa: RF02
        settings.as_of_date,
        settings.reporting_currency,
        clv.* exclude (customer_id),  -- noqa: RF02
        crv.* exclude (customer_id),  -- noqa: RF02
        -- indirect_referral_value is part of CRV, taken from int_customers_crv_computed.
        trees.* exclude (customer_id, indirect_referral_value),  -- noqa: RF02
        wallet_shares.* exclude (customer_id),  -- noqa: RF02
        email_engagement.* exclude (customer_id),  -- noqa: RF02
        social_scores.* exclude (customer_id)  -- noqa: RF02
    from customers
    cross join settings
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
