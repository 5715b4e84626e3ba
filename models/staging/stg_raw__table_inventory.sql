{{ config(materialized='table') }}
-- One row per raw table: where its file is, whether it was there, and how its rows
-- split between staging and the rejected rows.
with

{% for table_name in raw_tables() %}
    {{ table_name }}_counts as (
        select
            '{{ table_name }}' as table_name,
            {{ sql_text(raw_file_path(table_name)) }} as file_path,
            {{ raw_source_node(table_name).config.meta.get('required', false) if execute else false }} as is_required,
            {{ raw_file_exists(table_name) if execute else false }} as is_present,
            (select count(*) from {{ raw_table(table_name) }}) as raw_row_count,
            (select count(*) from {{ ref('stg_raw__' ~ table_name) }}) as staged_row_count
    ),

{% endfor %}
rejected as (
    select
        table_name,
        count(*) as rejected_row_count
    from {{ ref('stg_raw__rejected_rows') }}
    group by table_name
),

tables as (
    {% for table_name in raw_tables() %}
        select * from {{ table_name }}_counts
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select
        tables.table_name,
        tables.file_path,
        tables.is_required,
        tables.is_present,
        tables.raw_row_count,
        tables.staged_row_count,
        coalesce(rejected.rejected_row_count, 0) as rejected_row_count
    from tables
    left join rejected
        on tables.table_name = rejected.table_name
)

select * from final
