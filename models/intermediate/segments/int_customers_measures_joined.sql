{{ config(materialized='table_in_passes') }}
-- Every measure the segments are judged on, one row per customer known on as_of_date. Joins
-- only: each subject's model computes its columns, and every column of each is taken here;
-- the published list is the contract of marts.customer_segments (models/marts/_marts__models.yml).
with

customers as (
    select * from {{ ref('int_customers_filtered') }}
    where {{ in_customer_pass('customer_id') }}
),

settings as (
    select * from {{ ref('int_analysis_settings') }}
),

clv as (
    select * from {{ ref('int_customers_clv_summarised') }}
    where {{ in_customer_pass('customer_id') }}
),

crv as (
    select * from {{ ref('int_customers_crv_computed') }}
    where {{ in_customer_pass('customer_id') }}
),

trees as (
    select * from {{ ref('int_referral_trees_walked') }}
    where {{ in_customer_pass('customer_id') }}
),

wallet_shares as (
    select * from {{ ref('int_wallet_shares_estimated') }}
    where {{ in_customer_pass('customer_id') }}
),

email_engagement as (
    select * from {{ ref('int_email_engagement_aggregated') }}
    where {{ in_customer_pass('customer_id') }}
),

social_scores as (
    select * from {{ ref('int_social_scores_computed') }}
    where {{ in_customer_pass('customer_id') }}
),

final as (
    -- The names in exclude () are columns of the star before them, which sqlfluff cannot
    -- tell (RF02).
    select
        -- The email in clear text stays behind: email_key is the published customer key.
        customers.* {{ star_exclude() }} (email),  -- noqa: RF02
        settings.as_of_date,
        settings.reporting_currency,
        clv.* {{ star_exclude() }} (customer_id),  -- noqa: RF02
        crv.* {{ star_exclude() }} (customer_id),  -- noqa: RF02
        -- indirect_referral_value is part of CRV, taken from int_customers_crv_computed.
        trees.* {{ star_exclude() }} (customer_id, indirect_referral_value),  -- noqa: RF02
        wallet_shares.* {{ star_exclude() }} (customer_id),  -- noqa: RF02
        email_engagement.* {{ star_exclude() }} (customer_id),  -- noqa: RF02
        social_scores.* {{ star_exclude() }} (customer_id)  -- noqa: RF02
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
