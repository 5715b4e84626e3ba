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

{% macro reject_duplicate_keys(relation, key, order_by) -%}
    {#- Rows of `relation` that share `key` with an earlier valid row (by `order_by`)
        get row_rejection_reason 'duplicate_id'; the first valid row is kept. Rows that
        already break a rule keep their own reason and never displace a valid row. -#}
    select
        * exclude (row_rejection_reason, key_rank),
        coalesce(
            row_rejection_reason,
            case when key_rank > 1 then 'duplicate_id' end
        ) as row_rejection_reason
    from (
        select
            *,
            row_number() over (
                partition by {{ key }}
                order by row_rejection_reason is not null, {{ order_by }}
            ) as key_rank
        from {{ relation }}
    )
{%- endmacro %}
