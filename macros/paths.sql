{#- Where things are. Relative paths are relative to the project folder, not to the
    folder dbt runs from, so `dbt build --project-dir <project>` works from anywhere
    (profiles.yml applies the same rule to DBT_DUCKDB_PATH). -#}

{% macro project_dir() -%}
    {#- The project folder as dbt resolved it (--project-dir, or the folder holding
        dbt_project.yml found from the current one). -#}
    {{ return((invocation_args_dict.get('project_dir') or '.') | string) }}
{%- endmacro %}

{% macro project_path(path) -%}
    {#- `path` unchanged when absolute (/..., ~..., C:\...), else inside the project folder. -#}
    {%- if modules.re.match('^([/~]|[A-Za-z]:[/\\\\])', path) -%}
        {{ return(path) }}
    {%- endif -%}
    {{ return(project_dir() ~ '/' ~ path) }}
{%- endmacro %}

{% macro raw_data_dir() -%}
    {#- The folder of the raw files: RAW_DATA_DIR, by default data/demo. -#}
    {{ return(project_path(env_var('RAW_DATA_DIR', '') or 'data/demo')) }}
{%- endmacro %}
