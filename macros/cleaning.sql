{#- Small casting and validation helpers for the staging base models. -#}

{% macro clean_text(column) -%}
    nullif(trim(cast({{ column }} as string)), '')
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

{% macro is_unreadable(raw_column, typed_column) -%}
    {#- The raw value is there but could not be read as its type (typed_column is the
        value as read: NULL when it could not be). -#}
    ({{ raw_column }} is not null and {{ typed_column }} is null)
{%- endmacro %}

{% macro first_broken_rule(rules) -%}
    {#- The first rule of `rules` a row breaks, as {'reason': ..., 'column_name': ...}, NULL
        for a row that keeps them all. `rules`: [reason, column, condition] in the order
        they are checked, one per column (a rule on two columns names the one checked
        first), so that every rejected row says which column broke which rule. One CASE:
        each condition is evaluated once per row. -#}
    case
    {%- for reason, column, condition in rules %}
        when {{ condition }} then {{ reason_struct(reason, column) }}
    {%- endfor %}
    end
{%- endmacro %}

{% macro run_started_timestamp() -%}
    {#- One "now" for the whole run, in UTC: rows stamped later are future timestamps. -#}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp)
{%- endmacro %}
