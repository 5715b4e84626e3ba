-- The segment and key measures of each customer at the build's as_of_date: the part
-- of customer_segments that the snapshot customer_segment_history records. Money and
-- P(alive) are rounded (vars history_*_decimals) so that floating-point noise between
-- two builds of the same data is not recorded as a change.
with

segments as (
    select * from {{ ref('customer_segments') }}
),

final as (
    select
        customer_id,
        as_of_date,
        value_segment,
        round(predicted_clv, {{ var('history_money_decimals') }}) as predicted_clv,
        round(crv, {{ var('history_money_decimals') }}) as crv,
        historical_clv,
        round(probability_alive, {{ var('history_probability_decimals') }}) as probability_alive,
        is_ambassador,
        is_loyal_light_buyer
    from segments
)

select * from final
