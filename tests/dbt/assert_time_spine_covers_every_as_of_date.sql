-- Every as_of_date the semantic layer aggregates by (customer_segments.as_of_date and
-- both ends of segment_migrations) is a day of metricflow_time_spine. Returns the
-- dates it misses.
with

spine as (
    select * from {{ ref('metricflow_time_spine') }}
),

customers as (
    select * from {{ ref('customer_segments') }}
),

migrations as (
    select * from {{ ref('segment_migrations') }}
),

dates as (
    select as_of_date from customers
    union
    select from_as_of_date as as_of_date from migrations
    union
    select to_as_of_date as as_of_date from migrations
),

final as (
    select dates.as_of_date
    from dates
    left join spine
        on dates.as_of_date = spine.date_day
    where spine.date_day is null
)

select * from final
