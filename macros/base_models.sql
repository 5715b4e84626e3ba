{#- What every staging base model (models/staging/base) does besides typing its columns:
    read the raw rows with where they came from, reject duplicate keys, reject orphan
    references, and give back the raw row as JSON for the rejected rows only.

    A raw row is known by raw_file (the name of its file: `<table>.parquet`, or a file of
    the folder `<table>/`) and raw_file_row (its row number in that file, from 0): that is
    how duplicates are ordered (first occurrence wins) and how stg_raw__rejected_rows finds
    a rejected row's raw values again, so no model carries JSON for every row. -#}

{% macro raw_table_files(table_name) -%}
    {#- The files of a raw table, sorted by name (one file, or the files of its folder). -#}
    {{ return(file_glob(raw_file_path(table_name))) }}
{%- endmacro %}

{% macro staged_raw_files(relation) -%}
    {#- raw_file -> rows already staged from it, in an incremental base model. -#}
    {%- set found = run_query("select raw_file, count(*) from " ~ relation ~ " group by raw_file") -%}
    {%- set staged = {} -%}
    {%- for row in found.rows -%}
        {%- do staged.update({row[0]: row[1]}) -%}
    {%- endfor -%}
    {{ return(staged) }}
{%- endmacro %}

{% macro assert_staged_files_unchanged(table_name, files, staged) -%}
    {#- New data must arrive as new files: a staged file that is gone or whose row count
        changed cannot be taken incrementally. -#}
    {%- set present = {} -%}
    {%- for file in files -%}
        {%- do present.update({file.split('/')[-1]: file}) -%}
    {%- endfor -%}
    {%- set counts = {} -%}
    {%- if raw_format() == 'parquet' and files | length > 0 -%}
        {%- set counts = file_row_counts(files) -%}
    {%- endif -%}
    {%- for name, rows in staged.items() -%}
        {%- if name not in present or (name in counts and counts[name] != rows) -%}
            {{ stop_build(
                "Raw file '" ~ name ~ "' of " ~ table_name ~ " was staged with " ~ rows ~ " rows and is now "
                ~ ("gone" if name not in present else "different (" ~ counts[name] ~ " rows)")
                ~ ". Staging takes new data as new files; to stage the table again from its files as they are now, run"
                ~ " scripts/build.sh --full-refresh.") }}
        {%- endif -%}
    {%- endfor -%}
{%- endmacro %}

{% macro raw_table_is_folder(table_name) -%}
    {#- True when the raw table is a folder <table>/ of files (no single <table> file). -#}
    {{ return(raw_file_path(table_name).endswith('/*.' ~ raw_format())) }}
{%- endmacro %}

{% macro restage_single_file(table_name) -%}
    {#- Pre-hook of the incremental base models: a table exported as one file is replaced
        by every new export, so it is staged again whole on every build (the model is
        emptied first); only a folder of files is staged incrementally, file by file. -#}
    {%- if execute and is_incremental() and not raw_table_is_folder(table_name) -%}
        {{ empty_table(this) }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{% macro raw_rows(table_name, announce=false, only_new=false, only_files=none) -%}
    {#- The raw table (raw_table(): checked against the contract; empty when an optional
        file is missing) with the columns raw_file and raw_file_row. With only_new (in an
        incremental model) and a table that is a folder of files, only the files not yet
        staged in {{ this }}; a table exported as one file is read whole (its model's
        pre-hook restage_single_file() has emptied the model). With only_files, only the
        files of those names. -#}
    {%- set relation = raw_table(table_name, announce=announce) -%}
    {%- set empty -%}
        (select *, cast(null as string) as raw_file, cast(null as bigint) as raw_file_row from {{ relation }} where false)
    {%- endset -%}
    {%- if not execute or not raw_file_exists(table_name) -%}
        {{ return(empty) }}
    {%- endif -%}
    {%- set files = raw_table_files(table_name) -%}
    {%- if only_new and raw_table_is_folder(table_name) -%}
        {%- set staged = staged_raw_files(this) -%}
        {%- do assert_staged_files_unchanged(table_name, files, staged) -%}
        {%- set new_files = [] -%}
        {%- for file in files if file.split('/')[-1] not in staged -%}
            {%- do new_files.append(file) -%}
        {%- endfor -%}
        {%- set files = new_files -%}
    {%- endif -%}
    {%- if only_files is not none -%}
        {%- set kept = [] -%}
        {%- for file in files if file.split('/')[-1] in only_files -%}
            {%- do kept.append(file) -%}
        {%- endfor -%}
        {%- set files = kept -%}
    {%- endif -%}
    {%- if files | length == 0 -%}
        {{ return(empty) }}
    {%- endif -%}
    {{ return(file_rows_reader(files, raw_format())) }}
{%- endmacro %}

{% macro reject_duplicate_keys(relation, key_columns, order_by='raw_file, raw_file_row', prior=none) -%}
    {#- CTEs ending in `deduplicated`: the rows of `relation` (with `row_rejection`, the
        first rule each breaks: first_broken_rule()) with row_rejection_reason and
        row_rejected_column, where a row that shares its key with an earlier valid row (by
        `order_by`: first occurrence by default) gets 'duplicate_id' on its key column(s).
        Rows that already break a rule keep their own reason and never displace a valid
        row. With `prior` (an incremental model's own table), the valid rows staged before
        come first.
        Only keys that occur more than once are ranked: they are found by sorting a 64-bit
        hash of each key (a hash collision only adds candidates, which are ranked by the
        key itself), so no row is sorted by anything wide. -#}
    {%- set key = key_columns | join(', ') -%}
    {%- set key_present = key_columns | join(' is not null and ') ~ ' is not null' -%}
repeated_key_hashes as (
    {{ repeated_key_hashes(relation, key, key_present) }}
    {%- if prior is not none %}
    union
    select {{ key_hash(key) }} as key_hash
    from {{ prior }}
    where row_rejection_reason is null
        and {{ key_hash(key) }} in (select {{ key_hash(key) }} from {{ relation }} where {{ key_present }})
    {%- endif %}
),

duplicate_rows as (
    select
        raw_file,
        raw_file_row
    from (
        select
            raw_file,
            raw_file_row,
            is_rejected,
            is_prior,
            row_number() over (
                partition by {{ key }}
                order by is_rejected, is_prior desc, {{ order_by }}
            ) as key_rank
        from (
            {#- With prior rows, only the columns both sides have (order_by must name only
                them: raw_file, raw_file_row). -#}
            select {{ '*' if prior is none else key ~ ', raw_file, raw_file_row' }}, row_rejection is not null as is_rejected, false as is_prior
            from {{ relation }}
            where {{ key_hash(key) }} in (select key_hash from repeated_key_hashes)
            {%- if prior is not none %}
            union all
            select {{ key }}, raw_file, raw_file_row, false as is_rejected, true as is_prior
            from {{ prior }}
            where row_rejection_reason is null
                and {{ key_hash(key) }} in (select key_hash from repeated_key_hashes)
            {%- endif %}
        )
    )
    where key_rank > 1 and not is_rejected and not is_prior
),

deduplicated as (
    select
        {{ relation }}.* {{ star_exclude() }} (row_rejection),
        coalesce(
            {{ relation }}.row_rejection.reason,
            case when duplicate_rows.raw_file is not null then 'duplicate_id' end
        ) as row_rejection_reason,
        coalesce(
            {{ relation }}.row_rejection.column_name,
            case when duplicate_rows.raw_file is not null then '{{ key_columns | join(", ") }}' end
        ) as row_rejected_column
    from {{ relation }}
    left join duplicate_rows
        on {{ relation }}.raw_file = duplicate_rows.raw_file
        and {{ relation }}.raw_file_row = duplicate_rows.raw_file_row
)
{%- endmacro %}

{% macro repeated_key_hashes(relation, key, condition) -%}
    {#- The 64-bit hashes of `key` that occur more than once among the rows of `relation`
        where `condition` holds, found by sorting the hashes (one narrow column) instead of
        grouping every key. -#}
    select distinct key_hash
    from (
        select
            key_hash,
            lead(key_hash) over (order by key_hash) as next_key_hash
        from (select {{ key_hash(key) }} as key_hash from {{ relation }} where {{ condition }})
    )
    where key_hash = next_key_hash
{%- endmacro %}

{% macro reject_orphan_references(relation, references) -%}
    {#- The rows of `relation` with rejection_reason and rejected_column: their
        row_rejection_reason and row_rejected_column, else 'orphan_reference' on the first
        reference that is not among the valid rows it refers to. `references`: one entry
        per reference, [column, referenced relation, its column]; a NULL reference is not
        checked (required ones are already missing_id). -#}
    select
        {{ relation }}.* {{ star_exclude() }} (row_rejection_reason, row_rejected_column),
        coalesce(
            {{ relation }}.row_rejection_reason,
            case
                {%- for column, referenced, referenced_column in references %}
                when {{ relation }}.{{ column }} is not null and reference_{{ loop.index }}.{{ referenced_column }} is null
                    then 'orphan_reference'
                {%- endfor %}
            end
        ) as rejection_reason,
        coalesce(
            {{ relation }}.row_rejected_column,
            case
                {%- for column, referenced, referenced_column in references %}
                when {{ relation }}.{{ column }} is not null and reference_{{ loop.index }}.{{ referenced_column }} is null
                    then '{{ column }}'
                {%- endfor %}
            end
        ) as rejected_column
    from {{ relation }}
    {%- for column, referenced, referenced_column in references %}
    left join {{ referenced }} as reference_{{ loop.index }}
        on {{ relation }}.{{ column }} = reference_{{ loop.index }}.{{ referenced_column }}
    {%- endfor %}
{%- endmacro %}

{% macro rejected_raw_rows(table_name, rejections) -%}
    {#- The rejected rows of one raw table (from `rejections`, a table of rejected rows with
        their file and row number) with the raw text of the column that broke the rule
        (rejected_value: the column's value as exported, cast to text; the key columns
        joined by '|' for a duplicate of a key of two columns; `rejections` may give the
        value itself where it is not in the row, e.g. the refund behind refund_rejected)
        and the raw row as JSON, read back from the raw files by file and row number.
        Only the files that have rejected rows are read; a table without any is not read
        at all. -#}
    {%- set files = [] -%}
    {%- set columns = [] -%}
    {%- set column_types = {} -%}
    {#- The rejections table does not exist yet when the project is only compiled (e.g. by
        sqlfluff before the first build): then there are no rejected rows to read back. -#}
    {%- if execute and load_relation(rejections) is not none -%}
        {%- set found = run_query("select distinct raw_file from " ~ rejections ~ " where table_name = '" ~ table_name ~ "'") -%}
        {%- set files = found.columns[0].values() | list -%}
        {%- if files | length > 0 -%}
            {%- set column_types = query_column_types("select * from " ~ raw_read(table_name)) -%}
            {%- for column in column_types -%}
                {%- do columns.append(column) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
    {%- set key_columns = raw_table_key_columns(table_name) -%}
    {%- if files | length == 0 -%}
    select
        table_name,
        raw_key,
        rejection_reason,
        rejected_column,
        rejected_value,
        customer_id,
        cast(null as {{ json_type() }}) as raw_row
    from {{ rejections }}
    where table_name = '{{ table_name }}'
    {%- else -%}
    select
        rejected.table_name,
        rejected.raw_key,
        rejected.rejection_reason,
        rejected.rejected_column,
        coalesce(
            rejected.rejected_value,
            case rejected.rejected_column
                {%- for column in columns %}
                when '{{ column | lower }}' then cast(raw.{{ adapter.quote(column) }} as string)
                {%- endfor %}
                {%- if key_columns | length > 1 %}
                when '{{ key_columns | join(", ") }}' then concat_ws('|'
                    {%- for column in key_columns %}, cast(raw.{{ column }} as string){% endfor %})
                {%- endif %}
            end
        ) as rejected_value,
        rejected.customer_id,
        {{ row_json('raw', column_types) }} as raw_row
    from {{ rejections }} as rejected
    inner join {{ raw_rows(table_name, only_files=files) }} as raw
        on rejected.raw_file = raw.raw_file
        and rejected.raw_file_row = raw.raw_file_row
    where rejected.table_name = '{{ table_name }}'
    {%- endif -%}
{%- endmacro %}
