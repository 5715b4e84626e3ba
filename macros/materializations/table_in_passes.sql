{#-
    Wide per-customer models built in passes over customer buckets (docs/scale.md,
    "10,000,000 customers"). DuckDB does not spill the hash tables of several joins in one
    pipeline together, so a model that joins many one-row-per-customer tables side by side
    needs memory in proportion to the customers; built in passes, each pass needs it for
    its bucket only.

    The rule, in one home:
    - in_customer_pass(expr) marks the per-customer import CTEs of a model. It renders
      `/* customer_pass: expr */ true`: every row, in `dbt compile`, `dbt show`, unit tests
      and any other materialization.
    - customer_pass_count() is the number of passes: the customers known on as_of_date
      (int_customers_filtered) divided by the setting customers_per_pass
      (int_analysis_settings), rounded up, at least 1.
    - The materialization table_in_passes runs the compiled SQL once per pass with each
      marker replaced by `hash(expr) % passes = pass`: the first pass `create table as`,
      the others `insert into ... by name`. With one pass the SQL runs unchanged.
-#}

{% macro in_customer_pass(expr) -%}
    /* customer_pass: {{ expr }} */ true
{%- endmacro %}


{% macro customer_pass_sql(sql, pass_number, pass_count) %}
    {%- set marker = '/\\*\\s*customer_pass:\\s*(.+?)\\s*\\*/\\s*true' -%}
    {%- if pass_count == 1 -%}
        {{ return(sql) }}
    {%- endif -%}
    {{ return(modules.re.sub(
        marker,
        '(hash(\\1) % ' ~ pass_count ~ ' = ' ~ pass_number ~ ')',
        sql
    )) }}
{% endmacro %}


{% macro customer_pass_count() %}
    {#- A relation of this project by model name, for the count at run time: both models
        are upstream of every model built in passes (they read int_customers_filtered or a
        model built on it), so they are built before it. -#}
    {%- set relations = {} -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and node.package_name == project_name
        and node.name in ['int_customers_filtered', 'int_analysis_settings'] -%}
        {%- do relations.update({node.name: adapter.get_relation(node.database, node.schema, node.alias)}) -%}
    {%- endfor -%}
    {%- set query -%}
        select greatest(1, cast(ceil(count(*) / any_value(settings.customers_per_pass)) as bigint))
        from {{ relations['int_customers_filtered'] }} as customers
        cross join {{ relations['int_analysis_settings'] }} as settings
    {%- endset -%}
    {%- set result = run_query(query) -%}
    {{ return(result.columns[0].values()[0] | int) }}
{% endmacro %}


{% materialization table_in_passes, adapter="duckdb", supported_languages=['sql'] %}

  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type='table') %}
  {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
  {%- set preexisting_intermediate_relation = load_cached_relation(intermediate_relation) -%}
  {%- set backup_relation_type = 'table' if existing_relation is none else existing_relation.type -%}
  {%- set backup_relation = make_backup_relation(target_relation, backup_relation_type) -%}
  {%- set preexisting_backup_relation = load_cached_relation(backup_relation) -%}
  {%- set grant_config = config.get('grants') -%}

  {%- if 'customer_pass:' not in compiled_code -%}
    {{ exceptions.raise_compiler_error(
        model.name ~ ' is materialized table_in_passes but marks no import with in_customer_pass(): '
        ~ 'each pass would build every customer'
    ) }}
  {%- endif -%}

  {{ drop_relation_if_exists(preexisting_intermediate_relation) }}
  {{ drop_relation_if_exists(preexisting_backup_relation) }}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {%- set pass_count = customer_pass_count() -%}
  {%- if pass_count > 1 -%}
    {{ log(model.name ~ ': ' ~ pass_count ~ ' passes over customer buckets', info=False) }}
  {%- endif -%}

  {#- Pass 0 creates the table (with the contract's columns and constraints when it has
      one), each other pass inserts its customers by column name. -#}
  {% call statement('main') -%}
    {{- create_table_as(False, intermediate_relation, customer_pass_sql(compiled_code, 0, pass_count)) }}
  {%- endcall %}
  {% for pass_number in range(1, pass_count) %}
    {% call statement('customer_pass_' ~ pass_number) -%}
      insert into {{ intermediate_relation }} by name
      select * from (
        {{ customer_pass_sql(compiled_code, pass_number, pass_count) }}
      )
    {%- endcall %}
  {% endfor %}

  {% if existing_relation is not none %}
    {% do drop_indexes_on_relation(existing_relation) %}
    {{ adapter.rename_relation(existing_relation, backup_relation) }}
  {% endif %}
  {{ adapter.rename_relation(intermediate_relation, target_relation) }}

  {% do create_indexes(target_relation) %}

  {{ run_hooks(post_hooks, inside_transaction=True) }}

  {% set should_revoke = should_revoke(existing_relation, full_refresh_mode=True) %}
  {% do apply_grants(target_relation, grant_config, should_revoke=should_revoke) %}
  {% do persist_docs(target_relation, model) %}

  {{ adapter.commit() }}

  {{ drop_relation_if_exists(backup_relation) }}

  {{ run_hooks(post_hooks, inside_transaction=False) }}

  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}


{#- Spark builds the whole table in one pass (dbt-spark's table materialization): it
    spills and distributes joins itself, and the markers render `true`. -#}
{% materialization table_in_passes, adapter="spark", supported_languages=['sql'] %}
  {{ return(materialization_table_spark()) }}
{% endmaterialization %}
