{% macro stop_build(message) -%}
    {#- Stop the run with `message`, printed as dbt prints a runtime error:
            Runtime Error in <model or on-run-start hook> (<its file>)
              <message>
        and nothing else. dbt appends the chain of macros a compilation error passed
        through ("> in macro ... > called by macro ...", four lines and more) to
        exceptions.raise_compiler_error(), and only to it, so every message of this
        project that stops a build is raised here instead, as the runtime error that dbt
        gives Jinja (exceptions.raise_dependency_error: a DbtRuntimeError, secrets
        scrubbed like any message). The message is the user's first line to read: it
        names what is wrong and what to do. -#}
    {{ exceptions.raise_dependency_error(message) }}
{%- endmacro %}
