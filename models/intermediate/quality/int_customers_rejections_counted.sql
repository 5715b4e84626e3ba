-- One row per known customer named by a raw row quarantined in staging.stg_raw__rejected_rows
-- (their measures may miss it; the mart marks them). Rows of any date count: a malformed
-- timestamp has no date to compare with as_of_date.
with

rejected_rows as (
    select * from {{ ref('stg_raw__rejected_rows') }}
),

customers as (
    select * from {{ ref('int_customers_filtered') }}
),

counted as (
    select
        rejected_rows.customer_id,
        count(*) as rejected_row_count,
        {{ sorted_distinct_string_agg('rejected_rows.table_name', "', '") }} as rejected_row_tables
    from rejected_rows
    where rejected_rows.customer_id is not null
    group by rejected_rows.customer_id
),

final as (
    select counted.*
    from counted
    inner join customers
        on counted.customer_id = customers.customer_id
)

select * from final
