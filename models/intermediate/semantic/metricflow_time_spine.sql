-- MetricFlow's daily time spine, 1900-01-01 to 2099-12-31 (docs/semantic-layer.md); every
-- as_of_date must fall inside it (singular test assert_time_spine_covers_every_as_of_date).
with

days as (
    -- generate_series includes its end; its one column is named generate_series.
    select cast(generate_series as date) as date_day
    from generate_series(timestamp '1900-01-01', timestamp '2099-12-31', interval 1 day)
),

final as (
    select date_day
    from days
)

select * from final
