-- One row per value segment and per named group: how many customers, what they are
-- worth (sums, means and shares of the whole) and the action for them. The value
-- segments partition the customers, so their rows add up to the whole; a customer
-- can be in several groups.
with

customers as (
    select * from {{ ref('customer_segments') }}
),

value_segments as (
    select * from {{ ref('value_segments') }}
),

actions as (
    select * from {{ ref('segment_actions') }}
),

memberships as (
    select
        *,
        'value_segment' as segment_kind,
        value_segment as segment
    from customers
    {% for group_name, flag in segment_groups() %}
        union all
        select
            *,
            'group' as segment_kind,
            '{{ group_name }}' as segment
        from customers
        where {{ flag }}
    {% endfor %}
),

totals as (
    select
        count(*) as customers,
        sum(net_revenue_to_date) as net_revenue_to_date,
        sum(historical_clv) as historical_clv,
        sum(predicted_clv) as predicted_clv,
        sum(crv) as crv
    from customers
),

per_segment as (
    select
        any_value(as_of_date) as as_of_date,
        segment_kind,
        segment,
        count(*) as customers,
        sum(net_revenue_to_date) as net_revenue_to_date,
        sum(historical_clv) as historical_clv,
        {{ money_avg('historical_clv') }} as mean_historical_clv,
        sum(predicted_clv) as predicted_clv,
        {{ money_avg('predicted_clv') }} as mean_predicted_clv,
        sum(crv) as crv,
        {{ money_avg('crv') }} as mean_crv
    from memberships
    group by segment_kind, segment
),

final as (
    select
        per_segment.as_of_date,
        per_segment.segment_kind,
        per_segment.segment,
        coalesce(value_segments.value_segment_label, actions.applies_to_label) as segment_label,
        per_segment.customers,
        per_segment.customers / totals.customers as customer_share,
        -- The shares divide DOUBLEs, as DuckDB divides DECIMALs (Spark would divide them as
        -- DECIMALs rounded to six places).
        {{ money('per_segment.net_revenue_to_date') }} as net_revenue_to_date,
        cast(per_segment.net_revenue_to_date as double) / cast(nullif(totals.net_revenue_to_date, 0) as double)
            as net_revenue_share,
        {{ money('per_segment.historical_clv') }} as historical_clv,
        {{ money('per_segment.mean_historical_clv') }} as mean_historical_clv,
        cast(per_segment.historical_clv as double) / cast(nullif(totals.historical_clv, 0) as double)
            as historical_clv_share,
        {{ money('per_segment.predicted_clv') }} as predicted_clv,
        {{ money('per_segment.mean_predicted_clv') }} as mean_predicted_clv,
        cast(per_segment.predicted_clv as double) / cast(nullif(totals.predicted_clv, 0) as double)
            as predicted_clv_share,
        {{ money('per_segment.crv') }} as crv,
        {{ money('per_segment.mean_crv') }} as mean_crv,
        cast(per_segment.crv as double) / cast(nullif(totals.crv, 0) as double)
            as crv_share,
        actions.action_code as recommended_action,
        actions.action_text as recommended_action_text,
        {{ built_at() }} as built_at
    from per_segment
    cross join totals
    left join value_segments
        on per_segment.segment_kind = 'value_segment'
            and per_segment.segment = value_segments.value_segment
    left join actions
        on per_segment.segment_kind = actions.applies_to_kind
            and per_segment.segment = actions.applies_to
)

select * from final
