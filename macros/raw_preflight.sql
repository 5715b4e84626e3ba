{#- The raw files checked before any model runs (on-run-start of `dbt build` and
    `dbt run`, after check_settings()): a file that cannot be used stops the run with one
    line, printed once, before the models and their SKIP lines. The base models then read
    the files without checking them again (raw_table()). -#}

{% macro raw_preflight_applies() -%}
    {#- The commands whose on-run-start checks the raw files: those that build models. -#}
    {{ return(execute and flags.WHICH in ['build', 'run']) }}
{%- endmacro %}

{% macro check_raw_files() -%}
    {#- on-run-start: every raw table's file (raw_table()'s checks: present, readable,
        the contract's columns and types, rows in a required table), then the values of
        its typed columns (check_raw_value_formats()). -#}
    {%- if not raw_preflight_applies() -%}
        {{ return('') }}
    {%- endif -%}
    {%- for table_name in raw_tables() -%}
        {%- do check_raw_file_or_folder(table_name) -%}
        {%- do raw_table(table_name, announce=true, check=true) -%}
    {%- endfor -%}
    {%- for table_name in raw_tables() if raw_file_exists(table_name) -%}
        {%- do check_raw_value_formats(table_name) -%}
    {%- endfor -%}
    {{ return('') }}
{%- endmacro %}

{% macro check_raw_file_or_folder(table_name) -%}
    {#- A table is one file or a folder of files, never both: the file would be read and
        the folder's new files silently ignored. Moving the file into the folder, under
        its own name, keeps what was staged from it (staging compares files by name) and
        stages only the folder's new files. -#}
    {%- set file_path = raw_data_dir() ~ '/' ~ table_name ~ '.' ~ raw_format() -%}
    {%- set folder = raw_data_dir() ~ '/' ~ table_name -%}
    {%- set folder_files = raw_glob_count(folder ~ '/*.' ~ raw_format()) -%}
    {%- if folder_files > 0 and raw_glob_count(file_path) > 0 -%}
        {{ stop_build(
            "Raw " ~ table_name ~ " is both the file '" ~ file_path ~ "' and the folder '" ~ folder ~ "/' ("
            ~ folder_files ~ " file(s)): a table is one or the other, and reading the file would miss the folder's rows."
            ~ " Move the file into the folder under its own name (mv '" ~ file_path ~ "' '" ~ folder ~ "/'),"
            ~ " then run scripts/build.sh again: what was staged from the file is kept, and only the new files are read"
            ~ " (README: daily runs).") }}
    {%- endif -%}
{%- endmacro %}

{% macro raw_value_sample_rows() -%}
    {#- How many rows of each file (its first ones) the value check reads. -#}
    {{ return(1000) }}
{%- endmacro %}

{% macro raw_expected_form(contract_type, table_name) -%}
    {#- What a text value of a contract type must look like, in words, with what to do. -#}
    {%- if contract_type == 'timestamp' -%}
        {{ return("Accepted: ISO 8601, year first (2023-06-30 11:09:21, 2023-06-30T11:09:21Z or +02:00, or the"
            ~ " date 2023-06-30), and the forms the setting raw_timestamp_formats gives for " ~ table_name
            ~ ". The build never guesses whether 01/02/2023 is day-first or month-first: say which, e.g."
            ~ " scripts/build.sh --vars '{raw_timestamp_formats: {" ~ table_name ~ ": \"%d/%m/%Y %H:%M:%S\"}}'"
            ~ " for day-first (month-first: %m/%d/%Y; README: bad rows)") }}
    {%- elif contract_type == 'decimal' -%}
        {{ return("Expected a plain number with a decimal point, such as 58.74 or -12.5: no currency symbol"
            ~ " (the currency has its own column), no thousands separator, no decimal comma. Export the"
            ~ " column in that form") }}
    {%- elif contract_type == 'integer' -%}
        {{ return("Expected a whole number such as 3, without separators. Export the column in that form") }}
    {%- endif -%}
    {{ return("Expected true or false. Export the column in that form") }}
{%- endmacro %}

{% macro raw_typed_text(column, contract_type, table_name) -%}
    {#- SQL: the text column read as its contract type, NULL when it cannot be; the same
        reading as the base models' (text_timestamp() for timestamps, try_cast otherwise). -#}
    {%- if contract_type == 'timestamp' -%}
        {{ return(text_timestamp(column, raw_timestamp_formats(table_name))) }}
    {%- endif -%}
    {{ return("try_cast(" ~ column ~ " as " ~ contract_sql_type(contract_type) ~ ")") }}
{%- endmacro %}

{% macro check_raw_value_formats(table_name) -%}
    {#- The typed columns the file delivers as text (every typed column of a CSV file, a
        VARCHAR timestamp of a Parquet file): when most values among the first rows
        cannot be read as the column's type, the export wrote the column in another form
        (day-first dates, amounts with a currency symbol, decimal commas). Stop with the
        column, the expected form and one value as it is in the file, rather than reject
        the whole table row by row. A few unreadable values are rows to quarantine, not a
        form: they are left to the base model. -#}
    {%- set types = raw_column_types(table_name) -%}
    {%- set checked = [] -%}
    {%- for column in raw_source_node(table_name).columns.values()
        if column.data_type in ['timestamp', 'decimal', 'integer', 'boolean']
        and types.get(column.name) == 'VARCHAR' -%}
        {%- do checked.append(column) -%}
    {%- endfor -%}
    {%- if checked | length == 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set measures = [] -%}
    {%- for column in checked -%}
        {%- set value = "nullif(trim(" ~ adapter.quote(column.name) ~ "), '')" -%}
        {%- set unreadable = value ~ " is not null and " ~ raw_typed_text(value, column.data_type, table_name) ~ " is null" -%}
        {%- do measures.append("count(" ~ value ~ ")") -%}
        {%- do measures.append("count(*) filter (where " ~ unreadable ~ ")") -%}
        {%- do measures.append("min(" ~ adapter.quote(column.name) ~ ") filter (where " ~ unreadable ~ ")") -%}
    {%- endfor -%}
    {%- set row = run_query(
        "select " ~ (measures | join(", ")) ~ " from (select * from " ~ raw_read(table_name)
        ~ " limit " ~ raw_value_sample_rows() ~ ")").rows[0] -%}
    {%- for column in checked -%}
        {%- set present, unreadable, example = row[3 * loop.index0], row[3 * loop.index0 + 1], row[3 * loop.index0 + 2] -%}
        {%- if present > 0 and unreadable > 0.5 * present -%}
            {{ stop_build(
                "Raw file '" ~ raw_file_path(table_name) ~ "': column " ~ column.name ~ " is not a "
                ~ column.data_type ~ " in " ~ unreadable ~ " of the " ~ present ~ " values of its first "
                ~ raw_value_sample_rows() ~ " rows, e.g. " ~ sql_text(example) ~ ". "
                ~ raw_expected_form(column.data_type, table_name) ~ ".") }}
        {%- endif -%}
    {%- endfor -%}
{%- endmacro %}
