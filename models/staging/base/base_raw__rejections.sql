-- Every raw row that breaks the contract: its table, key and reason, and where it is
-- (file and row number), from which stg_raw__rejected_rows reads its raw values back.
with

{% for table_name, key in raw_tables().items() %}
    {{ table_name }} as (
        select
            '{{ table_name }}' as table_name,
            cast({{ key }} as varchar) as raw_key,
            rejection_reason,
            raw_file,
            raw_file_row
        from {{ ref('base_raw__' ~ table_name) }}
        where rejection_reason is not null
    ),

{% endfor %}
final as (
    {% for table_name in raw_tables() %}
        select * from {{ table_name }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select * from final
