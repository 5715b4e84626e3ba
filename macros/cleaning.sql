{#- Small casting and validation helpers for the staging base models. -#}

{% macro clean_text(column) -%}
    nullif(trim(cast({{ column }} as varchar)), '')
{%- endmacro %}

{% macro clean_enum(column) -%}
    lower({{ clean_text(column) }})
{%- endmacro %}

{% macro is_blank(column) -%}
    ({{ clean_text(column) }} is null)
{%- endmacro %}

{% macro is_malformed(column, sql_type) -%}
    ({{ column }} is not null and try_cast({{ column }} as {{ sql_type }}) is null)
{%- endmacro %}

{% macro run_started_timestamp() -%}
    {#- One "now" for the whole run, in UTC: rows stamped later are future timestamps. -#}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp)
{%- endmacro %}
