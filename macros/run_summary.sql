{#- Rejected rows made visible. Every build that staged the raw data ends with one log
    line per raw table (read, staged, rejected by reason: report_raw_tables(), an
    on-run-end hook); a table with more than var max_rejected_share of its rows
    rejected also fails the warn-severity test rejected_share_below_max_rejected_share
    on stg_raw__table_inventory; and a required table (customers, transactions) that
    keeps none or less than half of its rows stops the build with its line
    (check_required_table_kept(), a post-hook of its staging model). -#}

{% macro raw_table_line(table_name, raw_rows, staged_rows, rejected_rows, reasons) -%}
    {#- "Raw transactions: 5999 read, 5898 staged, 101 rejected (malformed_value 101 in amount)". -#}
    {%- set line = "Raw " ~ table_name ~ ": " ~ raw_rows ~ " read, " ~ staged_rows ~ " staged, "
        ~ rejected_rows ~ " rejected" -%}
    {%- if rejected_rows > 0 -%}
        {%- set line = line ~ " (" ~ reasons ~ ")" -%}
    {%- endif -%}
    {{ return(line) }}
{%- endmacro %}

{% macro raw_unknown_columns(table_name) -%}
    {#- The columns of the raw file that the contract does not name (read by no model). -#}
    {%- set known = raw_source_node(table_name).columns.keys() | list -%}
    {%- set unknown = [] -%}
    {%- for column in raw_column_types(table_name).keys() if column not in known -%}
        {%- do unknown.append(column) -%}
    {%- endfor -%}
    {{ return(unknown) }}
{%- endmacro %}

{% macro reason_count_text() -%}
    {#- SQL: "malformed_value 101 in amount" from columns rejection_reason, n, rejected_column. -#}
    {{ return("rejection_reason || ' ' || n || ' in ' || rejected_column") }}
{%- endmacro %}

{% macro rejected_share_text(raw_rows, rejected_rows) -%}
    {{ return('%.1f' | format(100.0 * rejected_rows / raw_rows) ~ '%') }}
{%- endmacro %}

{% macro check_required_table_kept(table_name) -%}
    {#- Post-hook of stg_raw__customers and stg_raw__transactions: stop when the required
        table kept no rows, or lost more than half of them to the contract's rules. -#}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set counts = run_query(
        "with reasons as (select rejection_reason, rejected_column, count(*) as n from "
        ~ ref('base_raw__' ~ table_name) ~ " group by all) select coalesce(sum(n), 0),"
        ~ " coalesce(sum(n) filter (where rejection_reason is null), 0),"
        ~ " coalesce(sum(n) filter (where rejection_reason is not null), 0),"
        ~ " " ~ ordered_string_agg(reason_count_text(), "', '", "n desc, rejection_reason, rejected_column")
        ~ " filter (where rejection_reason is not null) from reasons").rows[0] -%}
    {%- set raw_rows, staged_rows, rejected_rows, reasons = counts[0] | int, counts[1] | int, counts[2] | int, counts[3] -%}
    {%- if raw_rows > 0 and (staged_rows == 0 or rejected_rows > 0.5 * raw_rows) -%}
        {{ stop_build(
            raw_table_line(table_name, raw_rows, staged_rows, rejected_rows, reasons) ~ ". " ~ table_name
            ~ " is a required table and " ~ rejected_share_text(raw_rows, rejected_rows)
            ~ " of its rows broke the contract, so the build stops: fix the export"
            ~ " (the rows and their reasons are in staging.stg_raw__rejected_rows; README: bad rows).") }}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}

{% macro model_relation(model_name) -%}
    {#- A model's relation where ref() is not allowed (on-run-end hooks). -#}
    {%- set node = graph.nodes['model.customer_value.' ~ model_name] -%}
    {{ return(api.Relation.create(database=node.database, schema=node.schema, identifier=node.alias)) }}
{%- endmacro %}

{% macro report_raw_tables() -%}
    {#- on-run-end: one line per raw table, when this run built stg_raw__table_inventory. -#}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set inventory_built = namespace(value=false) -%}
    {%- for result in results
        if result.node.unique_id == 'model.customer_value.stg_raw__table_inventory' and result.status == 'success' -%}
        {%- set inventory_built.value = true -%}
    {%- endfor -%}
    {%- if not inventory_built.value -%}
        {{ return('') }}
    {%- endif -%}
    {%- set inventory = model_relation('stg_raw__table_inventory') -%}
    {%- set rejected = model_relation('stg_raw__rejected_rows') -%}
    {%- set rows = run_query(
        "with reasons as (select table_name, rejection_reason, rejected_column, count(*) as n from " ~ rejected
        ~ " group by all), by_table as (select table_name, "
        ~ ordered_string_agg(reason_count_text(), "', '", "n desc, rejection_reason, rejected_column") ~ " as reasons from reasons group by table_name)"
        ~ " select inventory.table_name, inventory.is_present, inventory.raw_row_count,"
        ~ " inventory.staged_row_count, inventory.rejected_row_count, by_table.reasons from " ~ inventory
        ~ " as inventory left join by_table on inventory.table_name = by_table.table_name").rows -%}
    {%- set by_name = {} -%}
    {%- for row in rows -%}
        {%- do by_name.update({row[0]: row}) -%}
    {%- endfor -%}
    {%- set max_share = var('max_rejected_share') | float -%}
    {{ log("Raw data read from " ~ raw_data_dir() ~ " (rejected rows: staging.stg_raw__rejected_rows):", info=true) }}
    {%- for table_name in raw_tables() if table_name in by_name -%}
        {%- set row = by_name[table_name] -%}
        {%- set raw_rows, staged_rows, rejected_rows = row[2] | int, row[3] | int, row[4] | int -%}
        {%- if not row[1] -%}
            {{ log("Raw " ~ table_name ~ ": no file, treated as empty.", info=true) }}
        {%- else -%}
            {%- set line = raw_table_line(table_name, raw_rows, staged_rows, rejected_rows, row[5]) -%}
            {%- if raw_rows > 0 and rejected_rows > max_share * raw_rows -%}
                {%- set line = line ~ ": " ~ rejected_share_text(raw_rows, rejected_rows)
                    ~ " rejected, above max_rejected_share " ~ max_share
                    ~ " (test rejected_share_below_max_rejected_share warns)" -%}
            {%- endif -%}
            {%- set unknown = raw_unknown_columns(table_name) -%}
            {%- if unknown | length > 0 -%}
                {%- set line = line ~ "; column(s) not in the contract, ignored: " ~ (unknown | join(', ')) -%}
            {%- endif -%}
            {{ log(line ~ ".", info=true) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return('') }}
{%- endmacro %}

{% test rejected_share_below_max_rejected_share(model) %}
    {#- Raw tables (rows of stg_raw__table_inventory) that lost more than var
        max_rejected_share of their rows to the contract's rules. -#}
    select
        table_name,
        raw_row_count,
        rejected_row_count,
        rejected_row_count / raw_row_count as rejected_share
    from {{ model }}
    where raw_row_count > 0
        and rejected_row_count > {{ var('max_rejected_share') }} * raw_row_count
{% endtest %}
