-- MetricFlow's daily time spine, 1900-01-01 to 2099-12-31 (docs/semantic-layer.md); every
-- as_of_date must fall inside it (singular test assert_time_spine_covers_every_as_of_date).
with

days as (
    {{ date_spine("'1900-01-01'", "'2099-12-31'") }}
),

final as (
    select date_day
    from days
)

select * from final
