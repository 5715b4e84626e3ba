-- Transactions up to and including as_of_date, with their contribution margin in the
-- reporting currency: amount - cost, where a missing cost is estimated from the
-- category margin seed (or var default_margin_rate for an unknown category).
with

transactions as (
    select * from {{ ref('stg_raw__transactions') }}
),

settings as (
    select * from {{ ref('int_analysis_settings') }}
),

category_margins as (
    select * from {{ ref('category_margins') }}
),

in_window as (
    select transactions.*
    from transactions
    cross join settings
    where transactions.transacted_at < settings.as_of_cutoff_at
),

costed as (
    select
        in_window.*,
        in_window.cost is not null as has_recorded_cost,
        coalesce(
            in_window.cost,
            cast(
                in_window.amount * (1 - coalesce(category_margins.margin_rate, settings.default_margin_rate))
                as decimal(18, 2)
            )
        ) as estimated_cost
    from in_window
    cross join settings
    left join category_margins
        on in_window.product_category = category_margins.product_category
),

final as (
    select
        transaction_id,
        customer_id,
        transacted_at,
        cast(transacted_at as date) as transacted_on,
        transaction_type,
        is_refund,
        product_category,
        refunded_transaction_id,
        amount,
        has_recorded_cost,
        estimated_cost as cost,
        amount - estimated_cost as margin
    from costed
)

select * from final
