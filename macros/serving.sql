{#- The serving copy: what readers (BI tools, analysts) open instead of the working
    database. The on-run-end hook publish_serving_copy (dbt_project.yml) runs after
    every `dbt build`, `dbt run` and `dbt retry`, from any shell or script, and
    publishes into SERVING_DIR (default data/serving in the project folder):

      customer_value.duckdb        every mart relation as a table in schema marts, in
                                   the v1.4.0 storage format (DuckDB 1.4 and later)
      parquet/<relation>.parquet   one Parquet file per mart relation

    Nothing else: no staging or intermediate relation, so no raw rows. Each file is
    written under a hidden temporary name and then renamed over the published one
    (serving_replace, customer_value/serving.py), so a reader never sees half of one and
    never waits for a build. The marts are the project's models in schema `marts`, found
    in the graph.

    A run publishes only when nothing in it failed, errored or was skipped, and it
    built every mart: a selection that leaves a mart out (`--select stg_raw__customers`),
    a failed model or test, and an `--empty` run publish nothing; the previous copy
    stays as it was and one log line says why. Nor does a run in which a raw table lost
    more than var max_rejected_share of its rows to the contract's rules (the warning of
    test rejected_share_below_max_rejected_share): BI users keep the last good copy until
    the export is fixed, or until the data is accepted on purpose with var
    accept_rejected_rows: true.

    On Spark (spark__publish_serving_copy below) the same rules decide, and the launcher
    customer_value/spark_dbt.py publishes the same Parquet files from Python after the
    run (customer_value/spark_serving.py); no customer_value.duckdb there. -#}

{% macro serving_storage_version() -%}
    {{ return('v1.4.0') }}
{%- endmacro %}

{% macro serving_sql_string(value) -%}
    {{ return("'" ~ (value | string | replace("'", "''")) ~ "'") }}
{%- endmacro %}

{% macro serving_mart_nodes() -%}
    {%- set marts = [] -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model'
        and node.package_name == project_name
        and node.schema == 'marts'
        and node.config.materialized != 'ephemeral' -%}
        {%- do marts.append(node) -%}
    {%- endfor -%}
    {{ return(marts | sort(attribute='alias')) }}
{%- endmacro %}

{% macro serving_rejected_share_warnings(results) -%}
    {#- The warnings of test rejected_share_below_max_rejected_share in this run: raw
        tables that lost more than var max_rejected_share of their rows. -#}
    {%- set warned = [] -%}
    {%- for result in results
        if result.status == 'warn' and result.node.name.startswith('rejected_share_below_max_rejected_share') -%}
        {%- do warned.append(result.node.name) -%}
    {%- endfor -%}
    {{ return(warned) }}
{%- endmacro %}

{% macro serving_skip_reason(results, marts) -%}
    {#- Why this run may not publish, or '' when it may. -#}
    {%- if flags.EMPTY -%}
        {{ return('an --empty run builds marts without rows') }}
    {%- endif -%}
    {%- if serving_rejected_share_warnings(results) and not accept_rejected_rows() -%}
        {{ return('a raw table lost more than max_rejected_share (' ~ var('max_rejected_share')
            ~ ') of its rows to the contract rules (its line above says which and why), so BI users keep the'
            ~ ' last good copy. Fix the export and build again, or accept the data on purpose: scripts/build.sh'
            ~ " --vars '{accept_rejected_rows: true}'") }}
    {%- endif -%}
    {%- set failed = [] -%}
    {%- set built = [] -%}
    {%- for result in results -%}
        {%- if result.status in ['error', 'fail', 'skipped', 'runtime error'] -%}
            {%- do failed.append(result.node.name ~ ' (' ~ result.status ~ ')') -%}
        {%- elif result.status == 'success' -%}
            {%- do built.append(result.node.unique_id) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if failed -%}
        {{ return(failed | length ~ ' node(s) failed or were skipped: ' ~ (failed[:5] | join(', '))
            ~ (', ...' if failed | length > 5 else '')) }}
    {%- endif -%}
    {%- if not marts -%}
        {{ return('the project has no models in schema marts') }}
    {%- endif -%}
    {%- set missing = [] -%}
    {%- for node in marts if node.unique_id not in built -%}
        {%- do missing.append(node.name) -%}
    {%- endfor -%}
    {%- if missing -%}
        {{ return('this run did not build every mart (not built: ' ~ (missing | join(', '))
            ~ '); a dbt build or dbt run that builds all of them publishes') }}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}

{% macro serving_check_working_database() -%}
    {#- Says so when the working database was created in a format DuckDB 1.x cannot open
        (a file created before profiles.yml asked for v1.4.0 keeps its format). -#}
    {%- set found = run_query(
        "select tags['storage_version'] from duckdb_databases() where database_name = current_database()"
    ).columns[0].values() -%}
    {%- if found and found[0] and not found[0].startswith('v1.') -%}
        {{ log("Note: the working database " ~ target.path ~ " is in DuckDB's " ~ found[0]
            ~ " storage format, which DuckDB 1.x clients cannot open; delete it and build again to get "
            ~ serving_storage_version() ~ " (the serving copy is " ~ serving_storage_version() ~ " either way).",
            info=true) }}
    {%- endif -%}
{%- endmacro %}

{% macro serving_comment_statements(node, table) -%}
    {#- The mart's descriptions, persisted as comments in the working database
        (persist_docs), copied onto the serving table so BI tools show them there too. -#}
    {%- set statements = [] -%}
    {%- set found = run_query(
        "select '' as column_name, comment from duckdb_tables() where database_name = current_database()"
        ~ " and schema_name = " ~ serving_sql_string(node.schema) ~ " and table_name = " ~ serving_sql_string(node.alias)
        ~ " and comment is not null union all"
        ~ " select column_name, comment from duckdb_columns() where database_name = current_database()"
        ~ " and schema_name = " ~ serving_sql_string(node.schema) ~ " and table_name = " ~ serving_sql_string(node.alias)
        ~ " and comment is not null"
    ) -%}
    {%- for row in found.rows -%}
        {%- if row[0] == '' -%}
            {%- do statements.append("comment on table " ~ table ~ " is " ~ serving_sql_string(row[1])) -%}
        {%- else -%}
            {%- do statements.append("comment on column " ~ table ~ "." ~ adapter.quote(row[0]) ~ " is "
                ~ serving_sql_string(row[1])) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(statements) }}
{%- endmacro %}

{% macro publish_serving_copy(results) -%}
    {{ return(adapter.dispatch('publish_serving_copy', 'customer_value')(results)) }}
{%- endmacro %}

{% macro default__publish_serving_copy(results) -%}
    {#- Another engine: nothing is published (docs/spark.md). -#}
    {{ return('') }}
{%- endmacro %}

{% macro serving_plan_prefix() -%}
    {{ return('Serving plan for customer_value.spark_serving: ') }}
{%- endmacro %}

{% macro spark__publish_serving_copy(results) -%}
    {#- On Spark the same rules decide (serving_skip_reason, the marts of the graph), but
        Spark's SQL can neither write one Parquet file (it writes a folder of part files)
        nor rename one. So this hook only decides, and hands its decision to the launcher
        that ran dbt (customer_value/spark_dbt.py) as one debug log line, the serving plan
        (JSON), which the launcher reads from dbt's events; after a successful run it
        writes parquet/<relation>.parquet from Python and logs what it did
        (customer_value/spark_serving.py). No customer_value.duckdb on Spark. -#}
    {%- if not execute or flags.WHICH not in ['build', 'run', 'retry'] -%}
        {{ return('') }}
    {%- endif -%}
    {%- set marts = serving_mart_nodes() -%}
    {%- set reason = serving_skip_reason(results, marts) -%}
    {%- set relations = [] -%}
    {%- for node in marts if not reason -%}
        {%- set relation = adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) -%}
        {%- if relation is none -%}
            {{ exceptions.raise_compiler_error("Serving copy: mart " ~ node.name ~ " was built but is not in the database") }}
        {%- endif -%}
        {%- do relations.append({'name': node.alias, 'relation': relation.render()}) -%}
    {%- endfor -%}
    {%- set plan = {
        'serving_dir': env_var('SERVING_DIR', ''),
        'invocation_id': invocation_id,
        'reason': reason,
        'accepted_rejected_rows': serving_rejected_share_warnings(results) | length > 0,
        'relations': relations,
    } -%}
    {{ log(serving_plan_prefix() ~ tojson(plan)) }}
    {{ return('') }}
{%- endmacro %}

{% macro duckdb__publish_serving_copy(results) -%}
    {#- Returns the SQL that publishes (run by dbt as the hook's statement, so a failure
        there fails the hook and the run), or nothing when this run may not publish. -#}
    {%- if not execute or flags.WHICH not in ['build', 'run', 'retry'] -%}
        {{ return('') }}
    {%- endif -%}
    {%- do serving_check_working_database() -%}
    {%- set serving_dir = run_query(
        "select serving_resolve_dir(" ~ serving_sql_string(env_var('SERVING_DIR', '')) ~ ")"
    ).columns[0].values()[0] -%}
    {%- set marts = serving_mart_nodes() -%}
    {%- set reason = serving_skip_reason(results, marts) -%}
    {%- if reason -%}
        {%- set published_before = run_query(
            "select count(*) from glob(" ~ serving_sql_string(serving_dir ~ '/customer_value.duckdb') ~ ")"
        ).columns[0].values()[0] > 0 -%}
        {{ log("Serving copy not published: " ~ reason ~ ". "
            ~ ("The previous copy in " ~ serving_dir ~ " is left as it was." if published_before
               else "Nothing has been published in " ~ serving_dir ~ " yet."), info=true) }}
        {{ return('') }}
    {%- endif -%}
    {%- if serving_rejected_share_warnings(results) -%}
        {{ log("Serving copy: publishing although a raw table lost more than max_rejected_share of its rows,"
            ~ " because accept_rejected_rows is true.", info=true) }}
    {%- endif -%}

    {%- set database_file = serving_dir ~ '/customer_value.duckdb' -%}
    {%- set temporary_database_file = serving_dir ~ '/.customer_value.duckdb.' ~ invocation_id ~ '.tmp' -%}
    {%- set published = {} -%}
    {%- set statements = [
        "select serving_prepare_dir(" ~ serving_sql_string(serving_dir) ~ ")",
        "attach " ~ serving_sql_string(temporary_database_file) ~ " as serving_publish (storage_version "
            ~ serving_sql_string(serving_storage_version()) ~ ")",
        "create schema serving_publish.marts",
    ] -%}
    {%- for node in marts -%}
        {%- set relation = adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) -%}
        {%- if relation is none -%}
            {{ exceptions.raise_compiler_error("Serving copy: mart " ~ node.name ~ " was built but is not in the database") }}
        {%- endif -%}
        {%- set table = 'serving_publish.marts.' ~ adapter.quote(node.alias) -%}
        {%- set parquet_file = serving_dir ~ '/parquet/' ~ node.alias ~ '.parquet' -%}
        {%- set temporary_parquet_file = serving_dir ~ '/parquet/.' ~ node.alias ~ '.parquet.' ~ invocation_id ~ '.tmp' -%}
        {%- do published.update({parquet_file: temporary_parquet_file}) -%}
        {%- do statements.append("create table " ~ table ~ " as select * from " ~ relation) -%}
        {%- do statements.extend(serving_comment_statements(node, table)) -%}
        {%- do statements.append("copy (select * from " ~ table ~ ") to " ~ serving_sql_string(temporary_parquet_file)
            ~ " (format parquet)") -%}
    {%- endfor -%}
    {%- do statements.append("checkpoint serving_publish") -%}
    {%- do statements.append("detach serving_publish") -%}
    {%- do published.update({database_file: temporary_database_file}) -%}
    {%- for final_file, temporary_file in published.items() -%}
        {%- do statements.append("select serving_replace(" ~ serving_sql_string(temporary_file) ~ ", "
            ~ serving_sql_string(final_file) ~ ")") -%}
    {%- endfor -%}
    {#- Parquet files of relations that are no longer marts go. -#}
    {%- set existing = run_query(
        "select file from glob(" ~ serving_sql_string(serving_dir ~ '/parquet/*.parquet') ~ ")"
    ).columns[0].values() -%}
    {%- for file in existing if file not in published -%}
        {%- do statements.append("select serving_remove(" ~ serving_sql_string(file) ~ ")") -%}
    {%- endfor -%}

    {{ log("Serving copy: publishing " ~ marts | length ~ " mart relation(s) (" ~ (marts | map(attribute='alias') | join(', '))
        ~ ") to " ~ serving_dir ~ " as customer_value.duckdb and parquet/<relation>.parquet.", info=true) }}
    {{ return(statements | join(';\n') ~ ';') }}
{%- endmacro %}

{% macro accept_rejected_rows() -%}
    {#- Var accept_rejected_rows: publish the serving copy even when a raw table lost more
        than max_rejected_share of its rows (checked to be true or false by check_settings). -#}
    {{ return(var('accept_rejected_rows', false) in [true, 'true', 'True']) }}
{%- endmacro %}
