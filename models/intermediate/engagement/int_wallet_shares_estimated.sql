-- Share of wallet, one row per customer known on as_of_date: docs/measures.md,
-- "Share of wallet".
with

customers as (
    select * from {{ ref('int_customers_filtered') }}
),

rates as (
    select * from {{ ref('int_exchange_rates_resolved') }}
),

surveys as (
    -- The reported category spend in the reporting currency.
    select
        stg_surveys.*,
        cast(stg_surveys.original_category_spend * rates.to_reporting_rate as decimal(18, 2)) as category_spend
    from {{ ref('stg_raw__wallet_surveys') }} as stg_surveys
    left join rates
        on stg_surveys.original_currency = rates.currency
),

transactions as (
    select * from {{ ref('int_transactions_costed') }}
),

files as (
    select * from {{ ref('int_raw_files_detected') }}
),

settings as (
    select * from {{ ref('int_analysis_settings') }}
),

latest_surveys as (
    select surveys.*
    from surveys
    cross join settings
    where surveys.responded_at < settings.as_of_cutoff_at
    qualify row_number() over (
            partition by surveys.customer_id
            order by surveys.responded_at desc, surveys.response_id desc
        ) = 1
),

spend_in_window as (
    select
        latest_surveys.response_id,
        coalesce(sum(transactions.amount), 0) as our_spend_in_survey_window
    from latest_surveys
    left join transactions
        on
            latest_surveys.customer_id = transactions.customer_id
            and latest_surveys.responded_at >= transactions.transacted_at
            and {{ months_between('transactions.transacted_at', 'latest_surveys.responded_at') }}
            < latest_surveys.period_months
    group by latest_surveys.response_id
),

shares as (
    select
        latest_surveys.*,
        spend_in_window.our_spend_in_survey_window,
        case
            when latest_surveys.category_spend > 0 and latest_surveys.period_months is not null
                then least(
                        1.0,
                        greatest(0.0, cast(spend_in_window.our_spend_in_survey_window as double))
                        / cast(latest_surveys.category_spend as double)
                    )
        end as spend_share_of_wallet,
        case
            when latest_surveys.brands_used >= 1 and latest_surveys.brand_rank between 1 and latest_surveys.brands_used
                then (1 - latest_surveys.brand_rank / (latest_surveys.brands_used + 1))
                    * 2 / latest_surveys.brands_used
        end as rank_rule_share_of_wallet
    from latest_surveys
    inner join spend_in_window
        on latest_surveys.response_id = spend_in_window.response_id
),

final as (
    select
        customers.customer_id,
        shares.response_id as survey_response_id,
        shares.responded_at as survey_responded_at,
        shares.period_months as survey_period_months,
        shares.category_spend as reported_category_spend,
        shares.our_spend_in_survey_window,
        shares.brands_used,
        shares.brand_rank,
        shares.likelihood_to_recommend,
        shares.spend_share_of_wallet,
        shares.rank_rule_share_of_wallet,
        coalesce(shares.spend_share_of_wallet, shares.rank_rule_share_of_wallet) as share_of_wallet,
        case
            when shares.spend_share_of_wallet is not null then 'spend'
            when shares.rank_rule_share_of_wallet is not null then 'rank_rule'
            else 'none'
        end as share_of_wallet_source,
        case
            when shares.spend_share_of_wallet is not null or shares.rank_rule_share_of_wallet is not null
                then null
            when not files.has_wallet_surveys_file then 'no_wallet_surveys_file'
            when shares.response_id is null then 'no_survey'
            else 'survey_without_usable_answers'
        end as share_of_wallet_missing_reason,
        coalesce(
            shares.spend_share_of_wallet is not null
            and shares.our_spend_in_survey_window > shares.category_spend,
            false
        ) as is_share_of_wallet_capped
    from customers
    cross join files
    left join shares
        on customers.customer_id = shares.customer_id
)

select * from final
