{% macro report_segment_history(results) -%}
    {#- on-run-end: when this run built segment_migrations and it is empty, one log line
        says why (the segment history holds a single as_of_date) and how to fill it. -#}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set built = namespace(value=false) -%}
    {%- for result in results
        if result.node.unique_id == 'model.customer_value.segment_migrations' and result.status == 'success' -%}
        {%- set built.value = true -%}
    {%- endfor -%}
    {%- if not built.value -%}
        {{ return('') }}
    {%- endif -%}
    {%- set migrations = model_relation('segment_migrations') -%}
    {%- set history = model_relation('customer_segment_history') -%}
    {%- set found = run_query(
        "select (select count(*) from " ~ migrations ~ "),"
        ~ " (select cast(max(as_of_date) - interval 3 month as date) from " ~ history ~ ")").rows[0] -%}
    {%- if found[0] == 0 -%}
        {%- set dates = run_query(
            "select distinct cast(as_of_date as string) as as_of_date from " ~ history
            ~ " where dbt_valid_to is null order by as_of_date").columns[0].values() -%}
        {{ log("segment_migrations is empty: the segment history records one as_of_date so far (" ~ (dates | join(', '))
            ~ "). Moves between segments appear once the project is built at another as_of_date, e.g."
            ~ " scripts/build.sh --vars '{as_of_date: " ~ found[1] ~ "}' (any earlier or later day of the data).",
            info=true) }}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}

{% macro history_check_columns() -%}
    {#- The columns of customer_segment_history whose change at a recorded as_of_date
        makes a new version (config meta.check_cols of the model). -#}
    {{ return((config.get('meta') or {}).get('check_cols', [])) }}
{%- endmacro %}

{% macro history_row_changed(before, after) -%}
    {#- Whether a customer's recorded row `before` and this build's row `after` (table
        aliases) differ in a checked column. The columns listed in the model's
        meta.tolerant_check_cols count as changed only when they move by more than var
        history_relative_tolerance of their value (of 1 when the value is smaller than 1):
        they are floating-point model outputs that differ in the last digits from one build
        of the same data to the next, and an exact comparison would record that noise as a
        new version. Every other column is compared exactly (NULL equal to NULL). -#}
    {%- set tolerant_cols = (config.get('meta') or {}).get('tolerant_check_cols', []) -%}
    {%- set changes = [] -%}
    {%- for col in history_check_columns() -%}
        {%- set was = before ~ '.' ~ col -%}
        {%- set now = after ~ '.' ~ col -%}
        {%- if col in tolerant_cols -%}
            {%- do changes.append(
                '((' ~ was ~ ' is null) != (' ~ now ~ ' is null) or coalesce(abs(' ~ was ~ ' - ' ~ now
                ~ ') > ' ~ var('history_relative_tolerance') ~ ' * greatest(abs(' ~ was ~ '), abs(' ~ now
                ~ '), 1), false))'
            ) -%}
        {%- else -%}
            {%- do changes.append('(' ~ was ~ ' is distinct from ' ~ now ~ ')') -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return('(' ~ changes | join('\n        or ') ~ ')') }}
{%- endmacro %}

{% macro recorded_segment_history(states) -%}
    {#- What customer_segment_history has recorded: the table itself once it exists (an
        incremental run), else no rows, typed as the rows the model adds; `states` is the
        model's CTE of this build's rows, whose first nine columns the history starts with. -#}
    {%- if is_incremental() -%}
        {{ return(this) }}
    {%- endif -%}
    {{ return('(select ' ~ states ~ '.*, cast(null as string) as dbt_scd_id, cast(null as timestamp) as dbt_updated_at,'
        ~ ' cast(null as timestamp) as dbt_valid_from, cast(null as timestamp) as dbt_valid_to from ' ~ states
        ~ ' where false)') }}
{%- endmacro %}
