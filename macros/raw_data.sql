{#- Reading raw files: where they are, whether they are there, whether they keep
    the contract. Every staging base model reads its file through raw_table(). -#}

{% macro raw_format() -%}
    {#- parquet or csv; any other value is stopped by check_settings() before models run. -#}
    {{ return(var('raw_format', 'parquet') | string | trim | lower) }}
{%- endmacro %}

{% macro raw_file_path(table_name, file_format=none) -%}
    {#- <RAW_DATA_DIR>/<table>.<raw_format> (RAW_DATA_DIR by default the project's data/demo).
        Without that file, a folder <table>/ of such files is the table: the glob of its files. -#}
    {%- set file_path = raw_data_dir() ~ '/' ~ table_name ~ '.' ~ (file_format or raw_format()) -%}
    {%- set folder_glob = raw_data_dir() ~ '/' ~ table_name ~ '/*.' ~ (file_format or raw_format()) -%}
    {%- if execute and raw_glob_count(file_path) == 0 and raw_glob_count(folder_glob) > 0 -%}
        {{ return(folder_glob) }}
    {%- endif -%}
    {{ return(file_path) }}
{%- endmacro %}

{% macro raw_glob_count(pattern) -%}
    {{ return(file_glob(pattern) | length) }}
{%- endmacro %}

{% macro sql_text(value) -%}
    {{ return("'" ~ (value | string | replace("'", "''")) ~ "'") }}
{%- endmacro %}

{% macro sql_text_list(values) -%}
    {#- A DuckDB list literal of SQL text values: ['a', 'b']. -#}
    {%- set quoted = [] -%}
    {%- for value in values -%}
        {%- do quoted.append(sql_text(value)) -%}
    {%- endfor -%}
    {{ return("[" ~ (quoted | join(", ")) ~ "]") }}
{%- endmacro %}

{% macro raw_reader(paths) -%}
    {#- The DuckDB table function reading a path, a glob or a list of files; CSV files are
        read as text and cast value by value in the base models. -#}
    {%- set quoted = sql_text(paths) if paths is string else sql_text_list(paths) -%}
    {%- if raw_format() == 'csv' -%}
        {{ return("read_csv(" ~ quoted ~ ", header = true, all_varchar = true)") }}
    {%- endif -%}
    {{ return("read_parquet(" ~ quoted ~ ")") }}
{%- endmacro %}

{% macro raw_read(table_name) -%}
    {#- The reader of the raw table: its file, or the files of its folder. -#}
    {{ return(file_reader(raw_file_path(table_name), raw_format())) }}
{%- endmacro %}

{% macro raw_source_node(table_name) -%}
    {%- for node in graph.sources.values() if node.source_name == 'raw' and node.name == table_name -%}
        {{ return(node) }}
    {%- endfor -%}
    {{ stop_build("raw table '" ~ table_name ~ "' is not declared in models/staging/_raw__sources.yml") }}
{%- endmacro %}

{% macro raw_file_exists(table_name, file_format=none) -%}
    {{ return(raw_glob_count(raw_file_path(table_name, file_format)) > 0) }}
{%- endmacro %}

{% macro raw_table(table_name, announce=false, check=false) -%}
    {#- The raw table as a relation to select from. `announce` marks the one read that
        counts, the table's base model: there the file is checked (readable to the end,
        the contract's columns and types, rows in a required table) and an absent
        optional file is said once in the log, unless check_raw_files() did it before
        the models (`dbt build` and `dbt run`: the pre-flight calls this with `check`).
        A missing optional file becomes an empty relation with the contract's columns; a
        missing required file, a file in the other format, or a file that breaks the
        contract stops the build with one line naming the file and saying what to do. -#}
    {%- set relation = source('raw', table_name) -%}
    {%- if not execute -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set node = raw_source_node(table_name) -%}
    {%- set required = node.config.meta.get('required', false) -%}
    {%- set announce = check or (announce and not raw_preflight_applies()) -%}
    {%- if raw_file_exists(table_name) -%}
        {%- if announce -%}
            {%- do assert_raw_file_readable(table_name) -%}
            {%- do assert_raw_contract(table_name, node) -%}
            {%- if required -%}
                {%- do assert_raw_file_has_rows(table_name) -%}
            {%- endif -%}
        {%- endif -%}
        {{ return(raw_read(table_name)) }}
    {%- endif -%}
    {%- set other_format = 'csv' if raw_format() == 'parquet' else 'parquet' -%}
    {%- if raw_file_exists(table_name, other_format) -%}
        {{ stop_build(
            "Raw file '" ~ raw_file_path(table_name) ~ "' was not found, but '"
            ~ raw_file_path(table_name, other_format) ~ "' is there: to read " ~ other_format | upper
            ~ " files set raw_format: " ~ other_format ~ " (scripts/build.sh --vars '{raw_format: " ~ other_format
            ~ "}'), or export every table as " ~ raw_format() ~ ".") }}
    {%- elif required -%}
        {{ stop_build(
            "Required raw file '" ~ raw_file_path(table_name) ~ "' was not found. "
            ~ "Set RAW_DATA_DIR to the folder holding " ~ table_name ~ "." ~ raw_format()
            ~ " (currently '" ~ raw_data_dir() ~ "'; a relative path is relative to the project folder).") }}
    {%- else -%}
        {%- if announce -%}
            {{ log("Optional raw file '" ~ raw_file_path(table_name) ~ "' not found: " ~ table_name ~ " is treated as empty, and the measures built on it are NULL.", info=true) }}
        {%- endif -%}
        {{ return(empty_raw_relation(node)) }}
    {%- endif -%}
{%- endmacro %}

{% macro assert_raw_file_readable(table_name) -%}
    {#- Reads the whole file once with the SQL function customer_value_raw_file_error,
        which returns the reason instead of failing, so that a truncated or corrupted file
        is named with what to do. DuckDB: the project's dbt-duckdb plugin
        (customer_value/dbt_plugin.py) adds it; Spark: the launcher
        (customer_value/spark_dbt.py) does, for Parquet files. Without it (a profile of your
        own, dbt-spark run by hand) the engine's own error comes when the base model reads
        the file. -#}
    {%- if target.type == 'duckdb' -%}
        {%- set has_check = run_query(
            "select count(*) > 0 from duckdb_functions() where function_name = 'customer_value_raw_file_error'"
        ).columns[0].values()[0] -%}
    {%- else -%}
        {%- set has_check = target.type == 'spark' and env_var('CUSTOMER_VALUE_SPARK_SESSION', '') == '1' -%}
    {%- endif -%}
    {%- if not has_check -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set path = raw_file_path(table_name) -%}
    {%- set problem = run_query(
        "select customer_value_raw_file_error(" ~ sql_text(path) ~ ", " ~ sql_text(raw_format()) ~ ")"
    ).columns[0].values()[0] -%}
    {%- if problem -%}
        {%- set reason = modules.re.sub('^[A-Za-z ]*Error: ', '', problem) -%}
        {%- if raw_format() == 'csv' -%}
            {{ stop_build(
                "Raw file '" ~ path ~ "' cannot be read as CSV (" ~ reason ~ "). Export " ~ table_name
                ~ " again as comma-separated CSV with a header row.") }}
        {%- else -%}
            {{ stop_build(
                "Raw file '" ~ path ~ "' cannot be read as Parquet (" ~ reason ~ "): it is truncated, "
                ~ "corrupted or not Parquet. Export " ~ table_name ~ " again (CSV files: set raw_format: csv).") }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{% macro assert_raw_file_has_rows(table_name) -%}
    {%- set rows = run_query("select count(*) from " ~ raw_read(table_name)).columns[0].values()[0] -%}
    {%- if rows == 0 -%}
        {{ stop_build(
            "Raw file '" ~ raw_file_path(table_name) ~ "' has no rows, but " ~ table_name
            ~ " is a required table: export it again with its rows.") }}
    {%- endif -%}
{%- endmacro %}

{% macro contract_sql_type(data_type) -%}
    {%- set types = {
        'varchar': 'string',
        'timestamp': 'timestamp',
        'decimal': 'decimal(18, 2)',
        'integer': 'integer',
        'boolean': 'boolean',
    } -%}
    {{ return(types[data_type]) }}
{%- endmacro %}

{% macro empty_raw_relation(node) -%}
    (
        select
        {%- for column in node.columns.values() %}
            cast(null as {{ contract_sql_type(column.data_type) }}) as {{ column.name }}{{ "," if not loop.last }}
        {%- endfor %}
        where false
    )
{%- endmacro %}

{% macro raw_accepted_types(contract_type) -%}
    {#- The physical types a loader may deliver for each logical contract type, in words. -#}
    {%- set accepted = {
        'varchar': 'VARCHAR or an integer type',
        'timestamp': 'TIMESTAMP (with or without time zone), DATE, or VARCHAR holding ISO-8601 text',
        'decimal': 'DECIMAL, DOUBLE, FLOAT, REAL or an integer type',
        'integer': 'an integer type (TINYINT, SMALLINT, INTEGER, BIGINT, HUGEINT or unsigned)',
        'boolean': 'BOOLEAN',
    } -%}
    {{ return(accepted[contract_type]) }}
{%- endmacro %}

{% macro raw_type_is_compatible(contract_type, actual_type) -%}
    {#- Which physical types a loader may deliver for each logical contract type (in words:
        raw_accepted_types). CSV files are read as text and checked value by value in the
        base models. -#}
    {%- set actual = actual_type | upper -%}
    {%- set is_integer = actual in ['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT',
                                     'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT', 'UHUGEINT'] -%}
    {%- set is_number = is_integer or actual.startswith('DECIMAL') or actual in ['DOUBLE', 'FLOAT', 'REAL'] -%}
    {%- if raw_format() == 'csv' and actual == 'VARCHAR' -%}
        {{ return(true) }}
    {%- elif contract_type == 'varchar' -%}
        {{ return(actual == 'VARCHAR' or is_integer) }}
    {%- elif contract_type == 'timestamp' -%}
        {{ return(actual.startswith('TIMESTAMP') or actual == 'DATE' or actual == 'VARCHAR') }}
    {%- elif contract_type == 'decimal' -%}
        {{ return(is_number) }}
    {%- elif contract_type == 'integer' -%}
        {{ return(is_integer) }}
    {%- elif contract_type == 'boolean' -%}
        {{ return(actual == 'BOOLEAN') }}
    {%- endif -%}
    {{ return(false) }}
{%- endmacro %}

{% macro assert_raw_contract(table_name, node) -%}
    {%- set actual = {} -%}
    {%- for name, type in query_column_types("select * from " ~ raw_read(table_name)).items() -%}
        {%- do actual.update({name | lower: type}) -%}
    {%- endfor -%}
    {%- for column in node.columns.values() -%}
        {%- if column.name not in actual -%}
            {{ stop_build(
                "Raw file '" ~ raw_file_path(table_name) ~ "' has no column '" ~ column.name
                ~ "' (contract type " ~ column.data_type ~ "). Columns found: "
                ~ (actual.keys() | list | join(', '))
                ~ ". Export " ~ table_name ~ " again with every column of the contract.") }}
        {%- elif not raw_type_is_compatible(column.data_type, actual[column.name]) -%}
            {{ stop_build(
                "Raw file '" ~ raw_file_path(table_name) ~ "': column '" ~ column.name
                ~ "' has type " ~ actual[column.name] ~ ", but the contract says "
                ~ column.data_type ~ "; accepted types: " ~ raw_accepted_types(column.data_type)
                ~ ". Export the column as one of them, or export CSV files and set raw_format: csv.") }}
        {%- endif -%}
    {%- endfor -%}
{%- endmacro %}
