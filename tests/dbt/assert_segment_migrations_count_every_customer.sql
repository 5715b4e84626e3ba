-- segment_migrations accounts for every customer: at each recorded as_of_date after
-- the first, the customers arriving there (to_segment other than 'gone') are the
-- current rows of customer_segment_history at that date; at each date before the
-- last, the customers leaving it (from_segment other than 'new') are too; and at the
-- date customer_segments holds, the history has as many customers as the mart.
-- Returns the dates where a count differs.
with

migrations as (
    select * from {{ ref('segment_migrations') }}
),

history as (
    select * from {{ ref('customer_segment_history') }}
),

segments as (
    select * from {{ ref('customer_segments') }}
),

history_counts as (
    select
        as_of_date,
        count(*) as history_customers
    from history
    where dbt_valid_to is null
    group by as_of_date
),

date_range as (
    select
        min(as_of_date) as first_as_of_date,
        max(as_of_date) as last_as_of_date
    from history_counts
),

mart_counts as (
    select
        as_of_date,
        count(*) as mart_customers
    from segments
    group by as_of_date
),

arrivals as (
    select
        to_as_of_date as as_of_date,
        sum(customers) as arrived_customers
    from migrations
    where to_segment != 'gone'
    group by to_as_of_date
),

departures as (
    select
        from_as_of_date as as_of_date,
        sum(customers) as departed_customers
    from migrations
    where from_segment != 'new'
    group by from_as_of_date
),

compared as (
    select
        history_counts.as_of_date,
        history_counts.history_customers,
        arrivals.arrived_customers,
        departures.departed_customers,
        mart_counts.mart_customers,
        history_counts.as_of_date > date_range.first_as_of_date as has_previous_date,
        history_counts.as_of_date < date_range.last_as_of_date as has_next_date
    from history_counts
    cross join date_range
    left join arrivals
        on history_counts.as_of_date = arrivals.as_of_date
    left join departures
        on history_counts.as_of_date = departures.as_of_date
    left join mart_counts
        on history_counts.as_of_date = mart_counts.as_of_date
),

final as (
    select *
    from compared
    where (has_previous_date and arrived_customers is distinct from history_customers)
        or (not has_previous_date and arrived_customers is not null)
        or (has_next_date and departed_customers is distinct from history_customers)
        or (not has_next_date and departed_customers is not null)
        or mart_customers != history_customers
)

select * from final
