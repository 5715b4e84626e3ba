-- Every raw row that breaks the contract, with the table, its key and the reason.
-- Together with the staging models it accounts for every raw row.
with

{% for table_name, key in raw_tables().items() %}
    {{ table_name }} as (
        select
            '{{ table_name }}' as table_name,
            {{ key }} as raw_key,
            rejection_reason,
            raw_row
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
