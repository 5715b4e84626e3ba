{#- The customer key published for joining back: HMAC-SHA-256 of the cleaned email,
    keyed with the secret in the environment variable CUSTOMER_KEY_SECRET. The secret
    never appears in SQL text, compiled files or logs: the project's dbt-duckdb plugin
    (customer_value/dbt_plugin.py) sets it as the DuckDB variable customer_key_secret on
    every connection, and SQL reads it with getvariable(); on Spark the launcher
    (customer_value/spark_dbt.py) declares the session variable customer_key_secret, and
    SQL names it. Without it the key is NULL,
    never an unsalted hash (anyone holding a list of emails could match that back). -#}

{% macro hmac_sha256(key, message) -%}
    {{ return(adapter.dispatch('hmac_sha256', 'customer_value')(key, message)) }}
{%- endmacro %}

{% macro duckdb__hmac_sha256(key, message) -%}
    {#- HMAC-SHA-256 per RFC 2104 of two BLOB expressions, as 64 lower-case hex digits:
        H((K' xor opad) || H((K' xor ipad) || message)), where K' is the key (hashed
        first when longer than the 64-byte block) padded with zero bytes to 64 bytes,
        ipad the byte 0x36 and opad the byte 0x5c repeated 64 times. DuckDB's sha256()
        returns hex, so the inner hash is unhexed before the outer one. -#}
    {%- set block_key -%}
        (case when octet_length({{ key }}) > 64 then unhex(sha256({{ key }})) else {{ key }} end)
    {%- endset -%}
    {%- set padded_key -%}
        ({{ block_key }} || repeat('\x00'::blob, 64 - octet_length({{ block_key }})))
    {%- endset -%}
    sha256(
        cast(xor(cast({{ padded_key }} as bit), cast(repeat('\x5c'::blob, 64) as bit)) as blob)
        || unhex(sha256(
            cast(xor(cast({{ padded_key }} as bit), cast(repeat('\x36'::blob, 64) as bit)) as blob)
            || {{ message }}
        ))
    )
{%- endmacro %}

{% macro spark__hmac_sha256(key, message) -%}
    {#- Spark has HMAC built in (SHA-256 by default). -#}
    lower(hex(hmac({{ key }}, {{ message }}, 'SHA-256')))
{%- endmacro %}

{% macro customer_key_secret() -%}
    {{ return(adapter.dispatch('customer_key_secret', 'customer_value')()) }}
{%- endmacro %}

{% macro duckdb__customer_key_secret() -%}
    {{ return("nullif(getvariable('customer_key_secret'), '')") }}
{%- endmacro %}

{% macro spark__customer_key_secret() -%}
    {#- The session variable the launcher declares (customer_value/spark_dbt.py). A Spark
        session it did not prepare (dbt run by hand, a thrift server) has none: NULL, as
        on DuckDB without a secret. A persisted view cannot name a session variable:
        stg_raw__customers, which calls email_key(), is a table. -#}
    {%- if env_var('CUSTOMER_VALUE_SPARK_SESSION', '') == '1' -%}
        {{ return("nullif(customer_key_secret, '')") }}
    {%- endif -%}
    {{ return("cast(null as string)") }}
{%- endmacro %}

{% macro default__customer_key_secret() -%}
    {{ return("cast(null as string)") }}
{%- endmacro %}

{% macro email_key(email) -%}
    {#- The keyed hash of lower(trim(email)) (UTF-8), NULL without an email or a secret. -#}
    case
        when {{ email }} is not null and {{ customer_key_secret() }} is not null
            then {{ hmac_sha256(utf8_bytes(customer_key_secret()), utf8_bytes('lower(trim(' ~ email ~ '))')) }}
    end
{%- endmacro %}
