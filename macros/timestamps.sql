{#- Reading timestamps from raw files. A native TIMESTAMP (or DATE) column of a Parquet
    file is taken as it is; text (every CSV column, a VARCHAR column of a Parquet file) is
    read in the unambiguous ISO-8601 forms below, and in the formats the setting
    raw_timestamp_formats gives for its table. A text in any other form is NULL, so that
    the row is rejected as malformed_timestamp: a day-first or month-first date
    (30/06/2023, 06/30/2023) is never guessed. -#}

{#- Year first, `-` (or `/`) between the parts, a time after `T` or a space with or
    without seconds and fractions, optionally a zone: Z, +02, +0200 or +02:00. -#}
{% macro iso_timestamp_pattern(with_zone) -%}
    {%- set date = '[ ]*[0-9]{4}[-/][0-9]{1,2}[-/][0-9]{1,2}' -%}
    {%- set time = '[T ][0-9]{1,2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,9})?)?' -%}
    {%- if with_zone -%}
        {{ return(date ~ time ~ '(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)[ ]*') }}
    {%- endif -%}
    {{ return(date ~ '(' ~ time ~ ')?[ ]*') }}
{%- endmacro %}

{% macro raw_timestamp_formats(table_name) -%}
    {#- The formats raw_timestamp_formats gives for `table_name` (a format or a list of
        them; checked by check_settings()), as a list; empty when none. -#}
    {%- set setting = var('raw_timestamp_formats', {}) -%}
    {%- set formats = setting.get(table_name, []) if setting is mapping else [] -%}
    {{ return([formats] if formats is string else (formats | list)) }}
{%- endmacro %}

{% macro text_timestamp(expression, formats=[]) -%}
    {#- The text `expression` read as a UTC TIMESTAMP, NULL when it is in no accepted form.
        A zone (Z, +02:00) is converted to UTC; text without one is UTC already. The table's
        own formats (DuckDB strptime formats) come first, then ISO 8601; the common
        `YYYY-MM-DD hh:mm:ss` is recognised by its shape before any regular expression. -#}
    {%- set plain = [] -%}
    {%- set zoned = [] -%}
    {%- for format in formats -%}
        {%- do (zoned if ('%z' in format or '%Z' in format) else plain).append(format) -%}
    {%- endfor -%}
    {%- set iso -%}
        case
            when {{ expression }} like '____-__-__ __:__:__' then {{ text_to_timestamp(expression) }}
            when {{ regexp_full_match(expression, iso_timestamp_pattern(false)) }}
                then {{ text_to_timestamp(expression) }}
            when {{ regexp_full_match(expression, iso_timestamp_pattern(true)) }}
                then {{ zoned_text_to_utc_timestamp(expression) }}
        end
    {%- endset -%}
    {%- if formats | length == 0 -%}
        {{ return(iso) }}
    {%- endif -%}
    {%- set parts = [] -%}
    {%- if plain | length > 0 -%}
        {%- do parts.append(strptime_timestamp(expression, plain, false)) -%}
    {%- endif -%}
    {%- if zoned | length > 0 -%}
        {%- do parts.append(strptime_timestamp(expression, zoned, true)) -%}
    {%- endif -%}
    {%- do parts.append(iso) -%}
    {{ return("coalesce(" ~ (parts | join(", ")) ~ ")") }}
{%- endmacro %}

{% macro raw_column_types(table_name) -%}
    {#- column name (lower case) -> the type DuckDB reads it as (upper case): the file's
        own types, or the contract's when the file is absent (an empty relation). -#}
    {%- set types = {} -%}
    {%- if execute and raw_file_exists(table_name) -%}
        {%- for name, type in query_column_types("select * from " ~ raw_read(table_name)).items() -%}
            {%- do types.update({name | lower: type | upper}) -%}
        {%- endfor -%}
    {%- elif execute -%}
        {%- for column in raw_source_node(table_name).columns.values() -%}
            {%- do types.update({column.name: contract_sql_type(column.data_type) | upper | replace('STRING', 'VARCHAR')}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(types) }}
{%- endmacro %}

{% macro raw_timestamp(column, table_name, column_types=none) -%}
    {#- The raw timestamp column `column` (an expression ending in the column's name, e.g.
        source.transacted_at) of `table_name` as a UTC TIMESTAMP: TIMESTAMP, TIMESTAMPTZ
        and DATE columns cast, text read by text_timestamp(). Pass column_types
        (raw_column_types()) when a model reads several timestamp columns. -#}
    {%- set types = column_types if column_types is not none else raw_column_types(table_name) -%}
    {%- if types.get(column.split('.')[-1] | lower, 'VARCHAR') == 'VARCHAR' -%}
        {{ return(text_timestamp(column, raw_timestamp_formats(table_name))) }}
    {%- endif -%}
    {{ return("try_cast(" ~ column ~ " as timestamp)") }}
{%- endmacro %}
