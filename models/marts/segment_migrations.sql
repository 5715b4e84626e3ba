-- Segment migrations: between each pair of consecutive as_of_dates recorded in
-- customer_segment_history (current versions only), how many customers moved from
-- each segment to each segment, and the predicted CLV and CRV they took with them.
-- A customer recorded only at the later date comes from 'new', one recorded only at
-- the earlier date goes to 'gone', and a NULL segment counts as 'unknown'.
with

history as (
    select * from {{ ref('customer_segment_history') }}
),

current_states as (
    select
        customer_id,
        as_of_date,
        coalesce(value_segment, 'unknown') as value_segment,
        predicted_clv,
        crv
    from history
    where dbt_valid_to is null
),

as_of_dates as (
    select distinct as_of_date
    from current_states
),

ordered_dates as (
    select
        as_of_date as from_as_of_date,
        lead(as_of_date) over (order by as_of_date) as to_as_of_date
    from as_of_dates
),

date_pairs as (
    select
        from_as_of_date,
        to_as_of_date
    from ordered_dates
    where to_as_of_date is not null
),

from_states as (
    select
        date_pairs.from_as_of_date,
        date_pairs.to_as_of_date,
        current_states.customer_id,
        current_states.value_segment,
        current_states.predicted_clv,
        current_states.crv
    from date_pairs
    inner join current_states
        on date_pairs.from_as_of_date = current_states.as_of_date
),

to_states as (
    select
        date_pairs.from_as_of_date,
        date_pairs.to_as_of_date,
        current_states.customer_id,
        current_states.value_segment,
        current_states.predicted_clv,
        current_states.crv
    from date_pairs
    inner join current_states
        on date_pairs.to_as_of_date = current_states.as_of_date
),

moves as (
    select
        coalesce(from_states.from_as_of_date, to_states.from_as_of_date) as from_as_of_date,
        coalesce(from_states.to_as_of_date, to_states.to_as_of_date) as to_as_of_date,
        coalesce(from_states.value_segment, 'new') as from_segment,
        coalesce(to_states.value_segment, 'gone') as to_segment,
        from_states.predicted_clv as from_predicted_clv,
        to_states.predicted_clv as to_predicted_clv,
        from_states.crv as from_crv,
        to_states.crv as to_crv
    from from_states
    full outer join to_states
        on from_states.from_as_of_date = to_states.from_as_of_date
            and from_states.customer_id = to_states.customer_id
),

final as (
    select
        from_as_of_date,
        to_as_of_date,
        from_segment,
        to_segment,
        count(*) as customers,
        {{ money('sum(from_predicted_clv)') }} as from_predicted_clv,
        {{ money('sum(to_predicted_clv)') }} as to_predicted_clv,
        {{ money('sum(from_crv)') }} as from_crv,
        {{ money('sum(to_crv)') }} as to_crv,
        {{ built_at() }} as built_at
    from moves
    group by
        from_as_of_date,
        to_as_of_date,
        from_segment,
        to_segment
)

select * from final
