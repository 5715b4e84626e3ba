-- The segment history: each customer's segment and key measures at every as_of_date a
-- build has recorded, as a type-2 history (dbt_valid_from / dbt_valid_to). A build
-- touches the rows of its own as_of_date only, so the model is incremental on
-- as_of_date: it reads the rows already recorded at that date, decides which stay,
-- which close and which are added, and replaces that date's rows with them
-- (history_incremental_strategy: delete+insert on DuckDB, the date's partition
-- overwritten on Spark); rows of other dates are never rewritten. full_refresh is off:
-- --full-refresh does not erase the history. How a row changes: history_row_changed
-- (macros/segment_history.sql).
{{
    config(
        materialized='incremental',
        schema='snapshots',
        unique_key='as_of_date',
        incremental_strategy=history_incremental_strategy(),
        partition_by=history_partition_by(),
        full_refresh=false,
        on_schema_change='fail',
    )
}}

with

states as (
    select * from {{ ref('customer_segment_states') }}
),

recorded as (
    -- The rows already recorded at the date this build records (its as_of_date); none
    -- at the first build.
    select
        recorded_rows.customer_id,
        recorded_rows.as_of_date,
        recorded_rows.value_segment,
        recorded_rows.predicted_clv,
        recorded_rows.crv,
        recorded_rows.historical_clv,
        recorded_rows.probability_alive,
        recorded_rows.is_ambassador,
        recorded_rows.is_loyal_light_buyer,
        recorded_rows.dbt_scd_id,
        recorded_rows.dbt_updated_at,
        recorded_rows.dbt_valid_from,
        recorded_rows.dbt_valid_to
    from {{ recorded_segment_history('states') }} as recorded_rows
    where recorded_rows.as_of_date in (select states.as_of_date from states)
),

build_time as (
    select cast({{ snapshot_get_time() }} as timestamp) as recorded_at
),

current_versions as (
    select * from recorded
    where dbt_valid_to is null
),

compared as (
    select
        states.customer_id,
        states.as_of_date,
        states.value_segment,
        states.predicted_clv,
        states.crv,
        states.historical_clv,
        states.probability_alive,
        states.is_ambassador,
        states.is_loyal_light_buyer,
        current_versions.customer_id is not null as is_recorded,
        {{ history_row_changed('current_versions', 'states') }} as is_changed
    from states
    left join current_versions
        on
            states.customer_id = current_versions.customer_id
            and states.as_of_date = current_versions.as_of_date
),

earlier_versions as (
    -- Versions closed by earlier builds: kept as they are (recorded's columns, in the
    -- order of the other parts of the union).
    select * from recorded
    where dbt_valid_to is not null
),

kept_or_closed as (
    -- The current versions: closed when the customer's values changed or the customer
    -- is gone from this build (removed from the export), kept otherwise.
    select
        current_versions.customer_id,
        current_versions.as_of_date,
        current_versions.value_segment,
        current_versions.predicted_clv,
        current_versions.crv,
        current_versions.historical_clv,
        current_versions.probability_alive,
        current_versions.is_ambassador,
        current_versions.is_loyal_light_buyer,
        current_versions.dbt_scd_id,
        current_versions.dbt_updated_at,
        current_versions.dbt_valid_from,
        case
            when compared.customer_id is null or compared.is_changed then build_time.recorded_at
        end as dbt_valid_to
    from current_versions
    cross join build_time
    left join compared
        on
            current_versions.customer_id = compared.customer_id
            and current_versions.as_of_date = compared.as_of_date
),

added as (
    -- A new version for a customer not recorded at this date yet, or whose values changed.
    select
        compared.customer_id,
        compared.as_of_date,
        compared.value_segment,
        compared.predicted_clv,
        compared.crv,
        compared.historical_clv,
        compared.probability_alive,
        compared.is_ambassador,
        compared.is_loyal_light_buyer,
        md5(concat_ws(
            '|', compared.customer_id, cast(compared.as_of_date as string), cast(build_time.recorded_at as string)
        )) as dbt_scd_id,
        build_time.recorded_at as dbt_updated_at,
        build_time.recorded_at as dbt_valid_from,
        cast(null as timestamp) as dbt_valid_to
    from compared
    cross join build_time
    where not compared.is_recorded or compared.is_changed
),

final as (
    select * from earlier_versions
    union all
    select * from kept_or_closed
    union all
    select * from added
)

select * from final
