-- segment_summary adds up: its value segment rows partition customer_segments (same
-- customers and money), and each group row counts the customers with that flag.
-- Returns the rows that do not reconcile.
with

customers as (
    select * from {{ ref('customer_segments') }}
),

summary as (
    select * from {{ ref('segment_summary') }}
),

expected as (
    select
        'value_segment' as segment_kind,
        value_segment as segment,
        count(*) as customers,
        sum(historical_clv) as historical_clv,
        sum(predicted_clv) as predicted_clv,
        sum(crv) as crv
    from customers
    group by value_segment
    {% for group_name, flag in segment_groups() %}
        union all
        select
            'group' as segment_kind,
            '{{ group_name }}' as segment,
            count(*) as customers,
            sum(historical_clv) as historical_clv,
            sum(predicted_clv) as predicted_clv,
            sum(crv) as crv
        from customers
        where {{ flag }}
        having count(*) > 0
    {% endfor %}
),

totals as (
    select
        sum(customers) as customers,
        sum(customer_share) as customer_share,
        sum(historical_clv) as historical_clv,
        sum(predicted_clv) as predicted_clv
    from summary
    where segment_kind = 'value_segment'
),

final as (
    select
        coalesce(expected.segment_kind, summary.segment_kind) as segment_kind,
        coalesce(expected.segment, summary.segment) as segment,
        expected.customers as expected_customers,
        summary.customers as summary_customers
    from expected
    full outer join summary
        on expected.segment_kind = summary.segment_kind
            and expected.segment = summary.segment
    where expected.customers is distinct from summary.customers
        or abs(expected.historical_clv - summary.historical_clv) > 0.01
        or abs(expected.predicted_clv - summary.predicted_clv) > 0.01
        or abs(coalesce(expected.crv, 0) - coalesce(summary.crv, 0)) > 0.01

    union all

    select
        'total' as segment_kind,
        'all' as segment,
        (select count(*) from customers) as expected_customers,
        totals.customers as summary_customers
    from totals
    where totals.customers != (select count(*) from customers)
        or abs(totals.customer_share - 1) > 1e-9
        or abs(totals.historical_clv - (select sum(customers.historical_clv) from customers)) > 0.01
        or abs(totals.predicted_clv - (select sum(customers.predicted_clv) from customers)) > 0.01
)

select * from final
