{#- Reading raw files: where they are, whether they are there, whether they keep
    the contract. Every staging base model reads its file through raw_table(). -#}

{% macro raw_format() -%}
    {%- set fmt = var('raw_format', 'parquet') | lower -%}
    {%- if fmt not in ['parquet', 'csv'] -%}
        {{ exceptions.raise_compiler_error("var raw_format must be 'parquet' or 'csv', got '" ~ fmt ~ "'") }}
    {%- endif -%}
    {{ return(fmt) }}
{%- endmacro %}

{% macro raw_file_path(table_name) -%}
    {#- Same rule as the `external_location` of the raw source: the file <table>.<format>.
        Without it, a folder <table>/ of such files is the table: the glob of its files. -#}
    {%- set file_path = env_var('RAW_DATA_DIR', 'data/demo') ~ '/' ~ table_name ~ '.' ~ raw_format() -%}
    {%- set folder_glob = env_var('RAW_DATA_DIR', 'data/demo') ~ '/' ~ table_name ~ '/*.' ~ raw_format() -%}
    {%- if execute and raw_glob_count(file_path) == 0 and raw_glob_count(folder_glob) > 0 -%}
        {{ return(folder_glob) }}
    {%- endif -%}
    {{ return(file_path) }}
{%- endmacro %}

{% macro raw_glob_count(pattern) -%}
    {%- set found = run_query("select count(*) from glob('" ~ pattern ~ "')") -%}
    {{ return(found.columns[0].values()[0]) }}
{%- endmacro %}

{% macro raw_reader(paths) -%}
    {#- The reader of the raw source's `external_location`, for a path, a glob or a list of files. -#}
    {%- set quoted = "'" ~ paths ~ "'" if paths is string else "['" ~ (paths | join("', '")) ~ "']" -%}
    {%- if raw_format() == 'csv' -%}
        read_csv({{ quoted }}, header = true, all_varchar = true)
    {%- else -%}
        read_parquet({{ quoted }})
    {%- endif -%}
{%- endmacro %}

{% macro raw_source_node(table_name) -%}
    {%- for node in graph.sources.values() if node.source_name == 'raw' and node.name == table_name -%}
        {{ return(node) }}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("raw table '" ~ table_name ~ "' is not declared in models/staging/_raw__sources.yml") }}
{%- endmacro %}

{% macro raw_file_exists(table_name) -%}
    {%- set path = raw_file_path(table_name) -%}
    {%- set found = run_query("select count(*) from glob('" ~ path ~ "')") -%}
    {{ return(found.columns[0].values()[0] > 0) }}
{%- endmacro %}

{% macro raw_table(table_name, announce=false) -%}
    {#- The raw table as a relation to select from. A missing optional file becomes an
        empty relation with the contract's columns (said once in the log when
        announce is true); a missing required file, or a file that breaks the column
        contract, stops the build naming the file and the column. -#}
    {%- set relation = source('raw', table_name) -%}
    {%- if not execute -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set node = raw_source_node(table_name) -%}
    {%- if raw_file_exists(table_name) -%}
        {%- if raw_file_path(table_name).endswith('/*.' ~ raw_format()) -%}
            {%- set relation = raw_reader(raw_file_path(table_name)) -%}
        {%- endif -%}
        {%- do assert_raw_contract(table_name, relation, node) -%}
        {{ return(relation) }}
    {%- elif node.config.meta.get('required', false) -%}
        {{ exceptions.raise_compiler_error(
            "Required raw file '" ~ raw_file_path(table_name) ~ "' was not found. "
            ~ "Set RAW_DATA_DIR to the folder holding " ~ table_name ~ "." ~ raw_format()
            ~ " (currently '" ~ env_var('RAW_DATA_DIR', 'data/demo') ~ "').") }}
    {%- else -%}
        {%- if announce -%}
            {{ log("Optional raw file '" ~ raw_file_path(table_name) ~ "' not found: " ~ table_name ~ " is treated as empty, and the measures built on it are NULL.", info=true) }}
        {%- endif -%}
        {{ return(empty_raw_relation(node)) }}
    {%- endif -%}
{%- endmacro %}

{% macro contract_sql_type(data_type) -%}
    {%- set types = {
        'varchar': 'varchar',
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

{% macro raw_type_is_compatible(contract_type, actual_type) -%}
    {#- Which physical types a loader may deliver for each logical contract type.
        CSV files are read as text and checked value by value in the base models. -#}
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

{% macro assert_raw_contract(table_name, relation, node) -%}
    {%- set described = run_query("describe select * from " ~ relation) -%}
    {%- set actual = {} -%}
    {%- for row in described.rows -%}
        {%- do actual.update({row[0] | lower: row[1]}) -%}
    {%- endfor -%}
    {%- for column in node.columns.values() -%}
        {%- if column.name not in actual -%}
            {{ exceptions.raise_compiler_error(
                "Raw file '" ~ raw_file_path(table_name) ~ "' has no column '" ~ column.name
                ~ "' (contract type " ~ column.data_type ~ "). Columns found: "
                ~ (actual.keys() | list | join(', '))) }}
        {%- elif not raw_type_is_compatible(column.data_type, actual[column.name]) -%}
            {{ exceptions.raise_compiler_error(
                "Raw file '" ~ raw_file_path(table_name) ~ "': column '" ~ column.name
                ~ "' has type " ~ actual[column.name] ~ ", but the contract says "
                ~ column.data_type ~ ".") }}
        {%- endif -%}
    {%- endfor -%}
{%- endmacro %}
