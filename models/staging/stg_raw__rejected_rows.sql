{{ config(materialized='table') }}
-- Every raw row that breaks the contract, with the table, its key, the reason and the
-- raw row as JSON, read back from its file by file and row number (the models before
-- carry no JSON). Together with the staging models it accounts for every raw row.
with

{% for table_name in raw_tables() %}
    {{ table_name }} as (
        {{ rejected_raw_rows(table_name, ref('base_raw__rejections')) }}
    ),

{% endfor %}
final as (
    {% for table_name in raw_tables() %}
        select * from {{ table_name }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select * from final
