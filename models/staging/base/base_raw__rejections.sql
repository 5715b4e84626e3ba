-- Every raw row that breaks the contract: its table, key, reason and the column that broke
-- it, the customer it names, and where it is (file and row number), from which
-- stg_raw__rejected_rows reads its raw values back. rejected_value is set here only where
-- the value is not in the row itself (refund_rejected: the refund that was rejected).
with

{% for table_name, key in raw_tables().items() %}
    {%- set customer_column = raw_table_customer_column(table_name) %}
    {{ table_name }} as (
        select
            '{{ table_name }}' as table_name,
            cast({{ key }} as string) as raw_key,
            rejection_reason,
            rejected_column,
            {{ 'rejected_value' if table_name == 'transactions' else 'cast(null as string)' }} as rejected_value,
            {{ customer_column or 'cast(null as string)' }} as customer_id,
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
