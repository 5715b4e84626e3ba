{#- What differs between the engines, one macro per difference: the DuckDB implementation
    (the project's own target, `dev`) and the Spark one (the `spark` target, docs/spark.md)
    side by side, chosen by adapter.dispatch. Models and the other macros call these and
    never name an engine. SQL that both engines read alike is written once where it is used
    (`cast(... as string)`). -#}

{% macro unbounded_recursion_hooks() -%}
    {#- Pre-hooks of a model with a recursive CTE (its walks end by construction: each
        stops at a repeated person). DuckDB's recursion has no limit. Spark stops a
        recursive CTE at 100 levels or 1,000,000 rows, which a referral walk passes
        (10 million customers: more than a million converted referrals in its first
        step), so on Spark both limits are lifted for the session. -#}
    {{ return(adapter.dispatch('unbounded_recursion_hooks', 'customer_value')()) }}
{%- endmacro %}

{% macro default__unbounded_recursion_hooks() -%}
    {{ return([]) }}
{%- endmacro %}

{% macro spark__unbounded_recursion_hooks() -%}
    {{ return(['set spark.sql.cteRecursionLevelLimit=-1', 'set spark.sql.cteRecursionRowLimit=-1']) }}
{%- endmacro %}

{% macro not_materialized() -%}
    {#- The CTE hint that keeps a CTE inlined (DuckDB would otherwise materialize a CTE
        used twice); Spark always inlines CTEs and has no hint. -#}
    {{ return(adapter.dispatch('not_materialized', 'customer_value')()) }}
{%- endmacro %}

{% macro duckdb__not_materialized() -%}
    {{ return('not materialized') }}
{%- endmacro %}

{% macro default__not_materialized() -%}
    {{ return('') }}
{%- endmacro %}

{% macro key_hash(key) -%}
    {#- A 64-bit hash of the key columns `key` (SQL, comma-separated): only used to find
        candidate duplicates, which are then ranked by the key itself, so the engines
        may hash differently. -#}
    {{ return(adapter.dispatch('key_hash', 'customer_value')(key)) }}
{%- endmacro %}

{% macro duckdb__key_hash(key) -%}
    {{ return('hash(' ~ key ~ ')') }}
{%- endmacro %}

{% macro spark__key_hash(key) -%}
    {{ return('xxhash64(' ~ key ~ ')') }}
{%- endmacro %}

{% macro reason_struct(reason, column) -%}
    {#- A struct literal {reason, column_name} of two text constants. -#}
    {{ return(adapter.dispatch('reason_struct', 'customer_value')(reason, column)) }}
{%- endmacro %}

{% macro duckdb__reason_struct(reason, column) -%}
    {{ return("{'reason': '" ~ reason ~ "', 'column_name': '" ~ column ~ "'}") }}
{%- endmacro %}

{% macro spark__reason_struct(reason, column) -%}
    {{ return("named_struct('reason', '" ~ reason ~ "', 'column_name', '" ~ column ~ "')") }}
{%- endmacro %}

{% macro regexp_full_match(expression, pattern) -%}
    {#- True when the whole text matches `pattern` (a regular expression both engines read
        alike: classes, groups, ?, {m,n}). -#}
    {{ return(adapter.dispatch('regexp_full_match', 'customer_value')(expression, pattern)) }}
{%- endmacro %}

{% macro duckdb__regexp_full_match(expression, pattern) -%}
    {{ return("regexp_full_match(" ~ expression ~ ", '" ~ pattern ~ "')") }}
{%- endmacro %}

{% macro spark__regexp_full_match(expression, pattern) -%}
    {{ return("regexp_like(" ~ expression ~ ", '^(" ~ pattern ~ ")$')") }}
{%- endmacro %}

{% macro text_to_timestamp(expression) -%}
    {#- Year-first text without a zone (2023-06-30, 2023/6/30 1:09:21.5) as a TIMESTAMP,
        NULL when it is not one. -#}
    {{ return(adapter.dispatch('text_to_timestamp', 'customer_value')(expression)) }}
{%- endmacro %}

{% macro duckdb__text_to_timestamp(expression) -%}
    {{ return("try_cast(" ~ expression ~ " as timestamp)") }}
{%- endmacro %}

{% macro spark__text_to_timestamp(expression) -%}
    {#- Spark reads only `-` between the date's parts. -#}
    {{ return("try_cast(replace(" ~ expression ~ ", '/', '-') as timestamp)") }}
{%- endmacro %}

{% macro zoned_text_to_utc_timestamp(expression) -%}
    {#- Year-first text with a zone (Z, +02, +0200, +02:00) as the UTC TIMESTAMP. -#}
    {{ return(adapter.dispatch('zoned_text_to_utc_timestamp', 'customer_value')(expression)) }}
{%- endmacro %}

{% macro duckdb__zoned_text_to_utc_timestamp(expression) -%}
    {{ return("try_cast(" ~ expression ~ " as timestamptz) at time zone 'UTC'") }}
{%- endmacro %}

{% macro spark__zoned_text_to_utc_timestamp(expression) -%}
    {#- The session time zone is UTC (profiles.yml): a cast converts the zone to it. Spark
        reads only `-` between the date's parts, and a zone as Z, +hh:mm or +hh. -#}
    {%- set text = "regexp_replace(replace(trim(" ~ expression ~ "), '/', '-'), '([+-][0-9]{2})([0-9]{2})$', '$1:$2')" -%}
    {{ return("try_cast(" ~ text ~ " as timestamp)") }}
{%- endmacro %}

{% macro strptime_timestamp(expression, formats, with_zone) -%}
    {#- The text read with the first of `formats` (strptime formats: %Y, %m, %d, %H, %M,
        %S, %z ...) that fits, as a UTC TIMESTAMP; NULL when none does. -#}
    {{ return(adapter.dispatch('strptime_timestamp', 'customer_value')(expression, formats, with_zone)) }}
{%- endmacro %}

{% macro duckdb__strptime_timestamp(expression, formats, with_zone) -%}
    {%- set read = "try_strptime(trim(" ~ expression ~ "), " ~ sql_text_list(formats) ~ ")" -%}
    {{ return(read ~ (" at time zone 'UTC'" if with_zone else "")) }}
{%- endmacro %}

{% macro spark__strptime_timestamp(expression, formats, with_zone) -%}
    {#- strptime codes turned into Spark's datetime patterns, one try_to_timestamp each. -#}
    {%- set codes = {'%Y': 'yyyy', '%y': 'yy', '%m': 'M', '%d': 'd', '%H': 'H', '%I': 'h', '%M': 'mm',
                     '%S': 'ss', '%f': 'SSSSSS', '%p': 'a', '%z': 'XX', '%Z': 'z', '%b': 'MMM', '%B': 'MMMM', '%%': '%'} -%}
    {%- set reads = [] -%}
    {%- for format in formats -%}
        {%- set pattern = namespace(text=format | replace("'", "''")) -%}
        {%- for code, spark_code in codes.items() -%}
            {%- set pattern.text = pattern.text | replace(code, spark_code) -%}
        {%- endfor -%}
        {%- do reads.append("try_to_timestamp(trim(" ~ expression ~ "), '" ~ pattern.text ~ "')") -%}
    {%- endfor -%}
    {{ return("coalesce(" ~ (reads | join(", ")) ~ ")" if reads | length > 1 else reads[0]) }}
{%- endmacro %}

{% macro utf8_bytes(expression) -%}
    {#- The text as its UTF-8 bytes (a BLOB / BINARY). -#}
    {{ return(adapter.dispatch('utf8_bytes', 'customer_value')(expression)) }}
{%- endmacro %}

{% macro duckdb__utf8_bytes(expression) -%}
    {{ return('encode(' ~ expression ~ ')') }}
{%- endmacro %}

{% macro spark__utf8_bytes(expression) -%}
    {{ return("encode(" ~ expression ~ ", 'UTF-8')") }}
{%- endmacro %}

{% macro ordered_string_agg(expression, separator, order_by) -%}
    {#- The texts joined by `separator` (a SQL text literal), in the order `order_by`. -#}
    {{ return(adapter.dispatch('ordered_string_agg', 'customer_value')(expression, separator, order_by)) }}
{%- endmacro %}

{% macro duckdb__ordered_string_agg(expression, separator, order_by) -%}
    {{ return("string_agg(" ~ expression ~ ", " ~ separator ~ " order by " ~ order_by ~ ")") }}
{%- endmacro %}

{% macro spark__ordered_string_agg(expression, separator, order_by) -%}
    {{ return("string_agg(" ~ expression ~ ", " ~ separator ~ ") within group (order by " ~ order_by ~ ")") }}
{%- endmacro %}

{% macro json_type() -%}
    {#- The type of a JSON document column. -#}
    {{ return(adapter.dispatch('json_type', 'customer_value')()) }}
{%- endmacro %}

{% macro duckdb__json_type() -%}
    {{ return('json') }}
{%- endmacro %}

{% macro default__json_type() -%}
    {{ return('string') }}
{%- endmacro %}

{% macro row_json(alias, columns) -%}
    {#- The columns of the relation `alias` as one JSON object, in the order of `columns`
        (column name -> type: query_column_types()), NULL values kept, timestamps as
        DuckDB writes them: `YYYY-MM-DD hh:mm:ss`, then the fraction of a second without
        its trailing zeros. -#}
    {{ return(adapter.dispatch('row_json', 'customer_value')(alias, columns)) }}
{%- endmacro %}

{% macro duckdb__row_json(alias, columns) -%}
    {%- set fields = [] -%}
    {%- for column in columns -%}
        {%- do fields.append(adapter.quote(column) ~ " := " ~ alias ~ "." ~ adapter.quote(column)) -%}
    {%- endfor -%}
    {{ return("to_json(struct_pack(" ~ (fields | join(", ")) ~ "))") }}
{%- endmacro %}

{% macro spark__row_json(alias, columns) -%}
    {%- set fields = [] -%}
    {%- for column, type in columns.items() -%}
        {%- set value = alias ~ "." ~ adapter.quote(column) -%}
        {%- if type.startswith('TIMESTAMP') -%}
            {%- set value = "regexp_replace(date_format(" ~ value ~ ", 'yyyy-MM-dd HH:mm:ss.SSSSSS'), '[.]?0+$', '')" -%}
        {%- endif -%}
        {%- do fields.append("'" ~ column ~ "', " ~ value) -%}
    {%- endfor -%}
    {{ return("to_json(named_struct(" ~ (fields | join(", ")) ~ "), map('ignoreNullFields', 'false'))") }}
{%- endmacro %}

{% macro empty_table(relation) -%}
    {#- The statement that removes every row of a table. -#}
    {{ return(adapter.dispatch('empty_table', 'customer_value')(relation)) }}
{%- endmacro %}

{% macro default__empty_table(relation) -%}
    {{ return('delete from ' ~ relation) }}
{%- endmacro %}

{% macro spark__empty_table(relation) -%}
    {#- Spark's Parquet tables take no DELETE. -#}
    {{ return('truncate table ' ~ relation) }}
{%- endmacro %}

{#- Files: listing, reading, describing. Paths are local file paths; Spark gives file
    URIs (file:/...), which its readers take as well. -#}

{% macro file_glob(pattern) -%}
    {#- The files matching the glob `pattern` (`*` within one folder), sorted. -#}
    {{ return(adapter.dispatch('file_glob', 'customer_value')(pattern)) }}
{%- endmacro %}

{% macro duckdb__file_glob(pattern) -%}
    {%- set found = run_query("select file from glob(" ~ sql_text(pattern) ~ ") order by file") -%}
    {{ return(found.columns[0].values() | list) }}
{%- endmacro %}

{% macro spark__file_glob(pattern) -%}
    {#- Spark fails on a path that matches nothing, so the files of the pattern's folder
        are listed (under the raw data folder: its files and those of its subfolders, so
        that a missing table folder is not an error), without their contents, and matched
        here. A relative path is relative to the folder dbt runs from. -#}
    {%- set absolute = pattern if pattern.startswith('/') else env_var('PWD') ~ '/' ~ pattern -%}
    {%- set absolute = modules.re.sub('/(\\./)+', '/', absolute) -%}
    {%- set folder = absolute.rsplit('/', 1)[0] -%}
    {%- if '*' in folder -%}
        {{ exceptions.raise_compiler_error("file_glob: a folder pattern is not supported on Spark: " ~ pattern) }}
    {%- endif -%}
    {%- set regex = '^file:' ~ (modules.re.escape(absolute) | replace('\\*', '[^/]*')) ~ '$' -%}
    {%- set listed = folder ~ '/*' -%}
    {%- if pattern.startswith(raw_data_dir() ~ '/') -%}
        {%- set listed = raw_data_dir() ~ '/{*.*,*/*.*}' -%}
    {%- endif -%}
    {#- Spark's SQL text literals read a backslash as an escape: each is doubled. -#}
    {%- set found = run_query(
        "select path from binaryFile.`" ~ listed ~ "` where regexp_like(path, " ~ sql_text(regex | replace('\\', '\\\\')) ~ ") order by path") -%}
    {%- set files = [] -%}
    {%- for path in found.columns[0].values() -%}
        {%- do files.append(path[5:] if path.startswith('file:') else path) -%}
    {%- endfor -%}
    {{ return(files) }}
{%- endmacro %}

{% macro text_file_content(path) -%}
    {#- The whole text of a small file, NULL when it is missing. -#}
    {{ return(adapter.dispatch('text_file_content', 'customer_value')(path)) }}
{%- endmacro %}

{% macro duckdb__text_file_content(path) -%}
    {%- set rows = run_query("select content from read_text(" ~ sql_text(path) ~ ")").columns[0].values() -%}
    {{ return(rows[0] if rows | length > 0 else none) }}
{%- endmacro %}

{% macro spark__text_file_content(path) -%}
    {%- if file_glob(path) | length == 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set rows = run_query("select decode(content, 'UTF-8') from binaryFile.`" ~ path ~ "`").columns[0].values() -%}
    {{ return(rows[0] if rows | length > 0 else none) }}
{%- endmacro %}

{% macro csv_column_values(path, column) -%}
    {#- The values of `column` in a small CSV file with a header, trimmed, upper case, sorted. -#}
    {{ return(adapter.dispatch('csv_column_values', 'customer_value')(path, column)) }}
{%- endmacro %}

{% macro duckdb__csv_column_values(path, column) -%}
    {{ return(run_query(
        "select upper(trim(" ~ column ~ ")) from read_csv('" ~ path
        ~ "', header = true, all_varchar = true) order by 1").columns[0].values() | list) }}
{%- endmacro %}

{% macro default__csv_column_values(path, column) -%}
    {#- A plain CSV file (no quoted commas), split here. -#}
    {%- set lines = (text_file_content(path) or '').strip().splitlines() -%}
    {%- set header = [] -%}
    {%- for name in (lines[0] if lines else '').split(',') -%}
        {%- do header.append(name | trim) -%}
    {%- endfor -%}
    {%- set values = [] -%}
    {%- for line in lines[1:] if line | trim != '' -%}
        {%- do values.append(line.split(',')[header.index(column)] | trim | upper) -%}
    {%- endfor -%}
    {{ return(values | sort) }}
{%- endmacro %}

{% macro file_reader(path, file_format) -%}
    {#- A relation reading a path or a glob; CSV files read with every column as text. -#}
    {{ return(adapter.dispatch('file_reader', 'customer_value')(path, file_format)) }}
{%- endmacro %}

{% macro duckdb__file_reader(path, file_format) -%}
    {{ return(raw_reader(path)) }}
{%- endmacro %}

{% macro spark__file_reader(path, file_format) -%}
    {%- if file_format == 'csv' -%}
        {{ return(spark_csv_view(path)) }}
    {%- endif -%}
    {{ return("parquet.`" ~ path ~ "`") }}
{%- endmacro %}

{% macro spark_csv_view(path) -%}
    {#- CSV files read as DuckDB's read_csv(header = true, all_varchar = true) reads them:
        every column text, the first line of each file its header, RFC 4180 quotes
        (a doubled quote inside quotes), quoted line breaks, empty fields NULL. Spark
        takes reader options only in a data source definition, so this is a temporary
        view of the Spark session (every model of a dbt run on the spark target shares
        it), created when the reader is needed; a table may read it, a view may not. -#}
    {%- set view = 'raw_csv_' ~ local_md5(path) -%}
    {%- if execute -%}
        {%- do run_query("create or replace temporary view " ~ view ~ " using csv options (path " ~ sql_text(path)
            ~ ", header 'true', inferSchema 'false', multiLine 'true', escape '\"', mode 'PERMISSIVE', encoding 'UTF-8')") -%}
    {%- endif -%}
    {{ return(view) }}
{%- endmacro %}

{% macro file_rows_reader(files, file_format) -%}
    {#- The rows of `files` (a list of paths, one raw table's, all in one folder) with
        raw_file (the file's name) and raw_file_row (the row's number in its file, from 0). -#}
    {{ return(adapter.dispatch('file_rows_reader', 'customer_value')(files, file_format)) }}
{%- endmacro %}

{% macro duckdb__file_rows_reader(files, file_format) -%}
    {%- if file_format == 'csv' -%}
        {#- CSV has no file_row_number: number the rows as read (in file order, one file
            after the other), then restart the count in each file. -#}
        {{ return(
            "(select * exclude (raw_ordinal), raw_ordinal - min(raw_ordinal) over (partition by raw_file) as raw_file_row"
            ~ " from (select *, parse_filename(filename) as raw_file, row_number() over () as raw_ordinal"
            ~ " from " ~ raw_reader(files) ~ "))") }}
    {%- endif -%}
    {{ return("(select *, parse_filename(filename) as raw_file, file_row_number as raw_file_row from "
        ~ raw_reader(files) ~ ")") }}
{%- endmacro %}

{% macro spark__file_rows_reader(files, file_format) -%}
    {%- set names = [] -%}
    {%- for file in files -%}
        {%- do names.append(sql_text(file.split('/')[-1])) -%}
    {%- endfor -%}
    {%- set folder = files[0].rsplit('/', 1)[0] -%}
    {%- set path = files[0] if files | length == 1 else folder ~ '/*.' ~ file_format -%}
    {%- if file_format == 'csv' -%}
        {#- CSV has no row index, and a view hides _metadata: the file from
            input_file_name() (a URI: percent-decoded, a '+' kept as it is); with multiLine each file is read whole, in one task, in file
            order, so the order of monotonically_increasing_id() within a file is the order
            of its rows (numbered from 0, as on DuckDB). -#}
        {{ return("(select * except (raw_ordinal), cast(row_number() over (partition by raw_file order by raw_ordinal) - 1 as bigint) as raw_file_row"
            ~ " from (select * from (select *, url_decode(replace(regexp_extract(input_file_name(), '[^/]*$', 0), '+', '%2B')) as raw_file,"
            ~ " monotonically_increasing_id() as raw_ordinal from " ~ file_reader(path, file_format) ~ ")"
            ~ " where raw_file in (" ~ (names | join(', ')) ~ ")))") }}
    {%- endif -%}
    {{ return("(select *, _metadata.file_name as raw_file, _metadata.row_index as raw_file_row from "
        ~ file_reader(path, file_format) ~ " where _metadata.file_name in (" ~ (names | join(', ')) ~ "))") }}
{%- endmacro %}

{% macro query_column_types(query) -%}
    {#- column name (as written) -> its type in DuckDB's words, upper case (VARCHAR,
        BIGINT, DECIMAL(18,2), TIMESTAMP, ...), for the columns of `query`, in order. -#}
    {{ return(adapter.dispatch('query_column_types', 'customer_value')(query)) }}
{%- endmacro %}

{% macro duckdb__query_column_types(query) -%}
    {%- set types = {} -%}
    {%- for row in run_query("describe " ~ query).rows -%}
        {%- do types.update({row[0]: row[1]}) -%}
    {%- endfor -%}
    {{ return(types) }}
{%- endmacro %}

{% macro spark__query_column_types(query) -%}
    {%- set names = {
        'string': 'VARCHAR', 'tinyint': 'TINYINT', 'smallint': 'SMALLINT', 'int': 'INTEGER', 'bigint': 'BIGINT',
        'float': 'FLOAT', 'double': 'DOUBLE', 'boolean': 'BOOLEAN', 'date': 'DATE', 'timestamp': 'TIMESTAMP WITH TIME ZONE',
        'timestamp_ntz': 'TIMESTAMP', 'binary': 'BLOB',
    } -%}
    {%- set types = {} -%}
    {%- for row in run_query("describe query " ~ query).rows if row[0] and not row[0].startswith('#') -%}
        {%- set spark_type = row[1] | lower -%}
        {%- do types.update({row[0]: names.get(spark_type, spark_type | upper)}) -%}
    {%- endfor -%}
    {{ return(types) }}
{%- endmacro %}

{% macro file_row_counts(files) -%}
    {#- file name -> its number of rows, for Parquet files. -#}
    {{ return(adapter.dispatch('file_row_counts', 'customer_value')(files)) }}
{%- endmacro %}

{% macro duckdb__file_row_counts(files) -%}
    {%- set counts = {} -%}
    {%- for row in run_query("select file_name, num_rows from parquet_file_metadata(" ~ sql_text_list(files) ~ ")").rows -%}
        {%- do counts.update({row[0].split('/')[-1]: row[1]}) -%}
    {%- endfor -%}
    {{ return(counts) }}
{%- endmacro %}

{% macro spark__file_row_counts(files) -%}
    {%- set counts = {} -%}
    {%- for row in run_query("select raw_file, count(*) from " ~ file_rows_reader(files, 'parquet') ~ " group by raw_file").rows -%}
        {%- do counts.update({row[0]: row[1]}) -%}
    {%- endfor -%}
    {{ return(counts) }}
{%- endmacro %}

{#- Lists (DuckDB) / arrays (Spark). -#}

{% macro array_of(expression) -%}
    {#- A one-element list. -#}
    {{ return(adapter.dispatch('array_of', 'customer_value')(expression)) }}
{%- endmacro %}

{% macro duckdb__array_of(expression) -%}
    {{ return('[' ~ expression ~ ']') }}
{%- endmacro %}

{% macro spark__array_of(expression) -%}
    {{ return('array(' ~ expression ~ ')') }}
{%- endmacro %}

{% macro array_append_value(array, expression) -%}
    {{ return(adapter.dispatch('array_append_value', 'customer_value')(array, expression)) }}
{%- endmacro %}

{% macro duckdb__array_append_value(array, expression) -%}
    {{ return('list_append(' ~ array ~ ', ' ~ expression ~ ')') }}
{%- endmacro %}

{% macro spark__array_append_value(array, expression) -%}
    {{ return('array_append(' ~ array ~ ', ' ~ expression ~ ')') }}
{%- endmacro %}

{% macro array_has(array, expression) -%}
    {{ return(adapter.dispatch('array_has', 'customer_value')(array, expression)) }}
{%- endmacro %}

{% macro duckdb__array_has(array, expression) -%}
    {{ return('list_contains(' ~ array ~ ', ' ~ expression ~ ')') }}
{%- endmacro %}

{% macro spark__array_has(array, expression) -%}
    {{ return('array_contains(' ~ array ~ ', ' ~ expression ~ ')') }}
{%- endmacro %}

{% macro star_exclude() -%}
    {#- The keyword of `select * <keyword> (columns)`: every column but those. DuckDB
        reads `except` too, but the SQL linter's DuckDB dialect only `exclude`. -#}
    {{ return(adapter.dispatch('star_exclude', 'customer_value')()) }}
{%- endmacro %}

{% macro duckdb__star_exclude() -%}
    {{ return('exclude') }}
{%- endmacro %}

{% macro default__star_exclude() -%}
    {{ return('except') }}
{%- endmacro %}

{% macro history_incremental_strategy() -%}
    {#- How the segment history (customer_segment_history) replaces the rows of the
        as_of_date a build records: DuckDB deletes that date's rows and inserts the new
        ones (`delete+insert` on as_of_date); Spark's Parquet tables take no DELETE, so
        the table is partitioned by as_of_date and that date's partition is overwritten
        (`insert_overwrite`, dynamic partition overwrite). -#}
    {{ return(adapter.dispatch('history_incremental_strategy', 'customer_value')()) }}
{%- endmacro %}

{% macro duckdb__history_incremental_strategy() -%}
    {{ return('delete+insert') }}
{%- endmacro %}

{% macro spark__history_incremental_strategy() -%}
    {{ return('insert_overwrite') }}
{%- endmacro %}

{% macro history_partition_by() -%}
    {#- The partition column of the segment history: as_of_date on Spark (what
        insert_overwrite replaces), none on DuckDB (tables there are not partitioned). -#}
    {{ return(adapter.dispatch('history_partition_by', 'customer_value')()) }}
{%- endmacro %}

{% macro duckdb__history_partition_by() -%}
    {{ return(none) }}
{%- endmacro %}

{% macro spark__history_partition_by() -%}
    {{ return(['as_of_date']) }}
{%- endmacro %}

{#- Seeds. -#}

{% macro spark__load_csv_rows(model, agate_table) -%}
    {#- dbt-spark's own version (session method) puts each CSV value into the SQL text
        quoted but not escaped, and an empty cell as the text 'None': a seed with an
        apostrophe (segment_actions) is a syntax error. The same inserts, each value a
        literal: NULL, a number, or a text with its backslashes and quotes escaped. -#}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set rows = [] -%}
        {%- for row in chunk -%}
            {%- set values = [] -%}
            {%- for col_name in agate_table.column_names -%}
                {%- set type = column_override.get(col_name, adapter.convert_type(agate_table, loop.index0)) -%}
                {%- set value = row[loop.index0] -%}
                {%- if value is none -%}
                    {%- set literal = 'null' -%}
                {%- elif value is number and value is not sameas true and value is not sameas false -%}
                    {%- set literal = value | string -%}
                {%- else -%}
                    {%- set literal = "'" ~ (value | string | replace('\\', '\\\\') | replace("'", "\\'")) ~ "'" -%}
                {%- endif -%}
                {%- do values.append('cast(' ~ literal ~ ' as ' ~ type ~ ')') -%}
            {%- endfor -%}
            {%- do rows.append('(' ~ (values | join(', ')) ~ ')') -%}
        {%- endfor -%}
        {%- set sql = 'insert into ' ~ this.render() ~ ' values\n' ~ (rows | join(',\n')) -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- do statements.append(sql) -%}
    {%- endfor -%}
    {{ return(statements[0] if statements else '') }}
{%- endmacro %}

{#- Dates and numbers. -#}

{% macro months_interval(months) -%}
    {#- An interval of `months` calendar months (an integer expression), to add to or
        subtract from a date or timestamp; both engines clamp to the month's last day. -#}
    {{ return(adapter.dispatch('months_interval', 'customer_value')(months)) }}
{%- endmacro %}

{% macro duckdb__months_interval(months) -%}
    {{ return('to_months(' ~ months ~ ')') }}
{%- endmacro %}

{% macro spark__months_interval(months) -%}
    {{ return('make_interval(0, ' ~ months ~ ')') }}
{%- endmacro %}

{% macro day_diff(start, end) -%}
    {#- Whole days from the date of `start` to the date of `end` (dates or timestamps). -#}
    {{ return(adapter.dispatch('day_diff', 'customer_value')(start, end)) }}
{%- endmacro %}

{% macro duckdb__day_diff(start, end) -%}
    {{ return("date_diff('day', " ~ start ~ ", " ~ end ~ ")") }}
{%- endmacro %}

{% macro spark__day_diff(start, end) -%}
    {#- BIGINT, as DuckDB's date_diff (Spark's datediff is an INT). -#}
    {{ return("cast(datediff(" ~ end ~ ", " ~ start ~ ") as bigint)") }}
{%- endmacro %}

{% macro date_spine(first_day, last_day) -%}
    {#- A query of one column, date_day: every day from `first_day` to `last_day`
        (text literals 'YYYY-MM-DD'), both included. -#}
    {{ return(adapter.dispatch('date_spine', 'customer_value')(first_day, last_day)) }}
{%- endmacro %}

{% macro duckdb__date_spine(first_day, last_day) -%}
    {#- generate_series includes its end; its one column is named generate_series. -#}
    {{ return("select cast(generate_series as date) as date_day from generate_series(timestamp "
        ~ first_day ~ ", timestamp " ~ last_day ~ ", interval 1 day)") }}
{%- endmacro %}

{% macro spark__date_spine(first_day, last_day) -%}
    {{ return("select explode(sequence(date " ~ first_day ~ ", date " ~ last_day ~ ", interval 1 day)) as date_day") }}
{%- endmacro %}

{% macro sorted_distinct_string_agg(expression, separator) -%}
    {#- The distinct texts joined by `separator` (a SQL text literal), sorted. -#}
    {{ return(adapter.dispatch('sorted_distinct_string_agg', 'customer_value')(expression, separator)) }}
{%- endmacro %}

{% macro duckdb__sorted_distinct_string_agg(expression, separator) -%}
    {{ return("string_agg(distinct " ~ expression ~ ", " ~ separator ~ " order by " ~ expression ~ ")") }}
{%- endmacro %}

{% macro spark__sorted_distinct_string_agg(expression, separator) -%}
    {{ return("array_join(array_sort(collect_set(" ~ expression ~ ")), " ~ separator ~ ")") }}
{%- endmacro %}

{% macro double_to_money(amount) -%}
    {#- A DOUBLE amount as DECIMAL(18, 2), rounded as DuckDB rounds it: the double
        amount * 100 rounded half away from zero. Spark's own cast rounds the shortest
        decimal text of the double instead (1.005 is 1.01 there, 1.00 on DuckDB, whose
        1.005 is 1.00499999999999989...). Spark's round() of a double is half away from
        zero on that double's text, which for amount * 100 (an integer and a half at
        most) is the same rounding. -#}
    {{ return(adapter.dispatch('double_to_money', 'customer_value')(amount)) }}
{%- endmacro %}

{% macro duckdb__double_to_money(amount) -%}
    {{ return('cast(' ~ amount ~ ' as decimal(18, 2))') }}
{%- endmacro %}

{% macro spark__double_to_money(amount) -%}
    {{ return('cast(cast(round(cast(' ~ amount ~ ' as double) * 100) as decimal(18, 0)) / 100 as decimal(18, 2))') }}
{%- endmacro %}

{% macro money_avg(amount, where=none) -%}
    {#- The mean of a DECIMAL(..., 2) money column as a DOUBLE (`where`: the aggregate's
        filter), as DuckDB computes it: the exact sum in cents, as a double, divided by
        100 times the count. Spark's avg() of a DECIMAL is a DECIMAL rounded to 6 places. -#}
    {{ return(adapter.dispatch('money_avg', 'customer_value')(amount, where)) }}
{%- endmacro %}

{% macro duckdb__money_avg(amount, where=none) -%}
    {{ return('cast(avg(' ~ amount ~ ')' ~ aggregate_filter(where) ~ ' as double)') }}
{%- endmacro %}

{% macro spark__money_avg(amount, where=none) -%}
    {{ return('(cast(sum(' ~ amount ~ ' * 100)' ~ aggregate_filter(where) ~ ' as double) / (nullif(count(' ~ amount ~ ')'
        ~ aggregate_filter(where) ~ ', 0) * 100))') }}
{%- endmacro %}

{% macro materialized_hint() -%}
    {#- The CTE hint that makes DuckDB compute a CTE once; Spark has no hint. -#}
    {{ return(adapter.dispatch('materialized_hint', 'customer_value')()) }}
{%- endmacro %}

{% macro duckdb__materialized_hint() -%}
    {{ return('materialized') }}
{%- endmacro %}

{% macro default__materialized_hint() -%}
    {{ return('') }}
{%- endmacro %}

{% macro unnest_list(expression) -%}
    {#- In a select list: one row per element of the list. -#}
    {{ return(adapter.dispatch('unnest_list', 'customer_value')(expression)) }}
{%- endmacro %}

{% macro duckdb__unnest_list(expression) -%}
    {{ return('unnest(' ~ expression ~ ')') }}
{%- endmacro %}

{% macro spark__unnest_list(expression) -%}
    {{ return('explode(' ~ expression ~ ')') }}
{%- endmacro %}

{% macro ordered_list_agg(expression, order_by) -%}
    {#- The values as one list in the order of `order_by` (unique within the group). -#}
    {{ return(adapter.dispatch('ordered_list_agg', 'customer_value')(expression, order_by)) }}
{%- endmacro %}

{% macro duckdb__ordered_list_agg(expression, order_by) -%}
    {{ return('list(' ~ expression ~ ' order by ' ~ order_by ~ ')') }}
{%- endmacro %}

{% macro spark__ordered_list_agg(expression, order_by) -%}
    {{ return('transform(array_sort(collect_list(struct(' ~ order_by ~ ' as list_order, ' ~ expression
        ~ ' as list_value))), entry -> entry.list_value)') }}
{%- endmacro %}

{% macro spark__safe_cast(field, type) -%}
    {#- dbt-spark's own, plus: a unit test fixture's list in DuckDB's text form
        ('[6.0, 7.0]', which DuckDB casts to a list) becomes Spark's array(6.0, 7.0), so
        the same fixtures serve both engines. -#}
    {%- set field_clean = field.strip('"').strip("'") if (cast_from_string_unsupported_for(type) and field is string) else field -%}
    {%- if type.lower().startswith('array') and field_clean is string and field_clean.startswith('[') and field_clean.endswith(']') -%}
        {%- set field_clean = 'array(' ~ field_clean[1:-1] ~ ')' -%}
    {%- endif -%}
    cast({{ field_clean }} as {{ type }})
{%- endmacro %}
