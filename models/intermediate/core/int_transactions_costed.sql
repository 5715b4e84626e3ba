-- Transactions up to as_of_date with their contribution margin in the reporting currency:
-- docs/measures.md, "Customer lifetime value (CLV)", historical CLV.
with

transactions as (
    select * from {{ ref('stg_raw__transactions') }}
),

rates as (
    select * from {{ ref('int_exchange_rates_resolved') }}
),

settings as (
    select * from {{ ref('int_analysis_settings') }}
),

category_margins as (
    select * from {{ ref('category_margins') }}
),

in_window as (
    select
        transactions.*,
        {{ double_to_money('transactions.original_amount * rates.to_reporting_rate') }} as amount,
        {{ double_to_money('transactions.original_cost * rates.to_reporting_rate') }} as cost
    from transactions
    inner join rates
        on transactions.original_currency = rates.currency
    cross join settings
    where transactions.transacted_at < settings.as_of_cutoff_at
),

costed as (
    select
        in_window.*,
        in_window.cost is not null as has_recorded_cost,
        coalesce(
            in_window.cost,
            {{ double_to_money(
                'in_window.amount * (1 - coalesce(category_margins.margin_rate, settings.default_margin_rate))'
            ) }}
        ) as estimated_cost
    from in_window
    cross join settings
    left join category_margins
        on in_window.product_category = category_margins.product_category
),

-- A refund matched to its purchase: the purchase's cost in proportion to the amount
-- refunded (the amounts divided as DOUBLE, as DuckDB divides DECIMALs).
refunds_matched as (
    select
        costed.transaction_id,
        {{ double_to_money(
            'purchases.estimated_cost * (cast(costed.amount as double) / cast(purchases.amount as double))'
        ) }} as estimated_cost
    from costed
    inner join costed as purchases
        on costed.refunded_transaction_id = purchases.transaction_id
    where costed.is_refund
        and not purchases.is_refund
),

reconciled as (
    select
        costed.* {{ star_exclude() }} (estimated_cost),  -- noqa: RF02
        case
            when refunds_matched.transaction_id is not null then refunds_matched.estimated_cost
            else costed.estimated_cost
        end as estimated_cost
    from costed
    left join refunds_matched
        on costed.transaction_id = refunds_matched.transaction_id
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
    from reconciled
)

select * from final
