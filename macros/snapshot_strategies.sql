{#- Snapshot strategy "check_with_tolerance": dbt's check strategy, except that the
    columns listed in the snapshot's meta.tolerant_check_cols count as changed only
    when they move by more than var history_relative_tolerance of their value (of 1
    when the value is smaller than 1). The measures are floating-point model outputs
    that differ in the last digits from one build of the same data to the next; an
    exact comparison would record that noise as a new version. Everything else (keys,
    scd id, timestamps, hard deletes, added columns) is the check strategy's own. -#}
{% macro snapshot_check_with_tolerance_strategy(node, snapshotted_rel, current_rel, model_config, target_exists) %}
    {%- set strategy = snapshot_check_strategy(node, snapshotted_rel, current_rel, model_config, target_exists) -%}
    {%- set tolerant_cols = (config.get('meta') or {}).get('tolerant_check_cols', []) -%}
    {%- set column_added, check_cols = snapshot_check_all_get_existing_columns(
        node, target_exists, config.get('check_cols')
    ) -%}
    {%- if column_added -%}
        {{ return(strategy) }}
    {%- endif -%}
    {%- set changes = [] -%}
    {%- for col in check_cols -%}
        {%- set before = snapshotted_rel ~ '.' ~ col -%}
        {%- set after = current_rel ~ '.' ~ col -%}
        {%- if col | replace('"', '') | lower in tolerant_cols -%}
            {%- do changes.append(
                '((' ~ before ~ ' is null) != (' ~ after ~ ' is null) or coalesce(abs(' ~ before ~ ' - ' ~ after
                ~ ') > ' ~ var('history_relative_tolerance') ~ ' * greatest(abs(' ~ before ~ '), abs(' ~ after
                ~ '), 1), false))'
            ) -%}
        {%- else -%}
            {%- do changes.append('(' ~ before ~ ' is distinct from ' ~ after ~ ')') -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do strategy.update({'row_changed': '(' ~ changes | join(' or ') ~ ')'}) -%}
    {{ return(strategy) }}
{% endmacro %}
