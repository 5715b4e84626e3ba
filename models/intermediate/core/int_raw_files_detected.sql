-- One row: which optional raw files were there for this build. Measure models read
-- these flags to tell "no data for this customer" (a zero) from "no such file" (NULL).
-- Checked when the model is compiled, by the same rule the staging models read files.
with

final as (
    select
        {% for table_name in raw_tables() -%}
            {{ raw_file_exists(table_name) if execute else false }} as has_{{ table_name }}_file
            {%- if not loop.last %},{% endif %}
        {% endfor -%}
)

select * from final
