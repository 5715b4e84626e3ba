{% macro report_segment_history(results) -%}
    {#- on-run-end: when this run built segment_migrations and it is empty, one log line
        says why (the segment history holds a single as_of_date) and how to fill it. -#}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set built = namespace(value=false) -%}
    {%- for result in results
        if result.node.unique_id == 'model.customer_value.segment_migrations' and result.status == 'success' -%}
        {%- set built.value = true -%}
    {%- endfor -%}
    {%- if not built.value -%}
        {{ return('') }}
    {%- endif -%}
    {%- set migrations = model_relation('segment_migrations') -%}
    {%- set snapshot = graph.nodes['snapshot.customer_value.customer_segment_history'] -%}
    {%- set history = api.Relation.create(
        database=snapshot.database, schema=snapshot.schema, identifier=snapshot.alias) -%}
    {%- set found = run_query(
        "select (select count(*) from " ~ migrations ~ "),"
        ~ " (select string_agg(distinct cast(as_of_date as varchar), ', ') from " ~ history
        ~ " where dbt_valid_to is null),"
        ~ " (select cast(max(as_of_date) - interval 3 month as date) from " ~ history ~ ")").rows[0] -%}
    {%- if found[0] == 0 -%}
        {{ log("segment_migrations is empty: the segment history records one as_of_date so far (" ~ found[1]
            ~ "). Moves between segments appear once the project is built at another as_of_date, e.g."
            ~ " scripts/build.sh --vars '{as_of_date: " ~ found[2] ~ "}' (any earlier or later day of the data).",
            info=true) }}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}

{% macro close_removed_history_rows() -%}
    {#- post-hook of the snapshot customer_segment_history. hard_deletes: ignore keeps the
        rows of other as_of_dates current (customer_segments holds one date only), so a
        customer gone from the export in a rebuild at a recorded date would stay current
        there: close those rows, at the date this build records and no other. -#}
    {%- set states = ref('customer_segment_states') -%}
    update {{ this }} as history
    set dbt_valid_to = {{ snapshot_get_time() }}
    where history.dbt_valid_to is null
        and history.as_of_date in (select distinct as_of_date from {{ states }})
        and not exists (
            select 1
            from {{ states }} as states
            where states.customer_id = history.customer_id
                and states.as_of_date = history.as_of_date
        )
{%- endmacro %}
