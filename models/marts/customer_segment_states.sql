-- The segment and key measures of each customer at the build's as_of_date: the part
-- of customer_segments that the segment history customer_segment_history records.
with

segments as (
    select * from {{ ref('customer_segments') }}
),

final as (
    select
        customer_id,
        as_of_date,
        value_segment,
        predicted_clv,
        crv,
        historical_clv,
        probability_alive,
        is_ambassador,
        is_loyal_light_buyer
    from segments
)

select * from final
