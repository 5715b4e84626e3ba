{#- Every setting (dbt var) checked before any model runs (on-run-start), against its
    kind and range in docs/settings.yml (the one description of every setting, from which
    docs/settings.md's tables are generated). A wrong one stops the run at once with one
    line naming the var, its value and what is allowed. Settings that can only be
    judged against the data (as_of_date inside the data) are checked where the data is
    staged: check_as_of_date_in_data(), a post-hook of stg_raw__transactions. -#}

{% macro settings_spec() -%}
    {#- docs/settings.yml as a map from var name to its entry (kind, min, max, values,
        default, unit, meaning), in the order of the file. -#}
    {%- set path = project_dir() ~ '/docs/settings.yml' -%}
    {%- set text = text_file_content(path) -%}
    {%- if text is none -%}
        {{ exceptions.raise_compiler_error(
            "Settings: " ~ path ~ " (the description of every setting) is missing; restore it from git.") }}
    {%- endif -%}
    {%- set spec = {} -%}
    {%- for section in fromyaml(text)['sections'] -%}
        {%- for setting in section['settings'] -%}
            {%- do spec.update({setting['name']: setting}) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(spec) }}
{%- endmacro %}

{% macro setting_shown(value) -%}
    {#- How a value is quoted in a message: text in quotes, anything else as YAML shows it. -#}
    {%- if value is none -%}
        {{ return('null') }}
    {%- elif value is boolean -%}
        {{ return(value | string | lower) }}
    {%- elif value is string -%}
        {{ return("'" ~ value ~ "'") }}
    {%- else -%}
        {{ return(value | string) }}
    {%- endif -%}
{%- endmacro %}

{% macro raise_setting_error(name, value, allowed) -%}
    {{ stop_build(
        "Setting " ~ name ~ " = " ~ setting_shown(value) ~ " is not allowed: it must be " ~ allowed
        ~ ". Set it in dbt_project.yml or with --vars (every setting: docs/settings.md).") }}
{%- endmacro %}

{% macro setting_number(value, integer=false) -%}
    {#- The value as a number, or none when it is not a finite number (an integer when
        asked). Numbers may come as YAML numbers or as text ("0.8"); true/false may not. -#}
    {%- if value is none or value is boolean -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set text = value | string | trim -%}
    {%- set pattern = '^[+-]?[0-9]+$' if integer else '^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$' -%}
    {%- if not modules.re.match(pattern, text) -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(text | int if integer else text | float) }}
{%- endmacro %}

{% macro range_text(kind, minimum, maximum, what) -%}
    {%- set noun = 'an integer' if kind == 'integer' else 'a number' -%}
    {%- if kind == 'fraction_open' -%}
        {{ return(noun ~ ' strictly between ' ~ minimum ~ ' and ' ~ maximum ~ ' (' ~ what ~ ')') }}
    {%- elif kind == 'positive' -%}
        {{ return(noun ~ ' above 0 (' ~ what ~ ')') }}
    {%- elif maximum is none -%}
        {{ return(noun ~ ' of at least ' ~ minimum ~ ' (' ~ what ~ ')') }}
    {%- else -%}
        {{ return(noun ~ ' from ' ~ minimum ~ ' to ' ~ maximum ~ ' (' ~ what ~ ')') }}
    {%- endif -%}
{%- endmacro %}

{% macro check_number_setting(name, kind, minimum, maximum, what) -%}
    {#- A var the project no longer declares is not checked (nothing reads it). -#}
    {%- set value = var(name, '__not_declared__') -%}
    {%- if value == '__not_declared__' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set number = setting_number(value, integer=(kind == 'integer')) -%}
    {%- set allowed = range_text(kind, minimum, maximum, what) -%}
    {%- if number is none -%}
        {%- do raise_setting_error(name, value, allowed) -%}
    {%- elif kind == 'fraction_open' and not (number > minimum and number < maximum) -%}
        {%- do raise_setting_error(name, value, allowed) -%}
    {%- elif kind == 'positive' and not number > 0 -%}
        {%- do raise_setting_error(name, value, allowed) -%}
    {%- elif kind in ['number', 'integer'] and (number < minimum or (maximum is not none and number > maximum)) -%}
        {%- do raise_setting_error(name, value, allowed) -%}
    {%- endif -%}
    {{ return(number) }}
{%- endmacro %}

{% macro seed_file_path(seed_name) -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'seed' and node.name == seed_name -%}
        {{ return(project_dir() ~ '/' ~ node.original_file_path) }}
    {%- endfor -%}
    {{ stop_build("seed '" ~ seed_name ~ "' is missing from " ~ project_dir() ~ "/seeds") }}
{%- endmacro %}

{% macro check_unknown_settings() -%}
    {#- A var given with --vars that docs/settings.yml does not describe (a typo) would be
        ignored without a word: stop instead, suggesting the closest declared name. -#}
    {%- set given = invocation_args_dict.get('vars') or {} -%}
    {%- if given is not mapping or given | length == 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set declared = settings_spec().keys() | list -%}
    {%- for name in given if name not in declared -%}
        {%- set best = namespace(name=none, length=0) -%}
        {%- for candidate in declared -%}
            {%- set common = namespace(length=0, open=true) -%}
            {%- for i in range([name | length, candidate | length] | min) if common.open -%}
                {%- if name[i] == candidate[i] -%}
                    {%- set common.length = common.length + 1 -%}
                {%- else -%}
                    {%- set common.open = false -%}
                {%- endif -%}
            {%- endfor -%}
            {%- if common.length > best.length -%}
                {%- set best.name, best.length = candidate, common.length -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set hint = "; did you mean " ~ best.name ~ "?" if best.length >= 4 else "." -%}
        {{ stop_build(
            "Setting " ~ name ~ " (given with --vars) is not a setting of this project" ~ hint
            ~ " Every setting: docs/settings.md.") }}
    {%- endfor -%}
{%- endmacro %}

{% macro check_choice_setting(name, values, note) -%}
    {%- set value = var(name, none) -%}
    {%- if value is not string or (value | trim | lower) not in values -%}
        {%- set listed = (values | join(' or ')) if values | length == 2 else 'one of ' ~ (values | join(', ')) -%}
        {%- do raise_setting_error(name, value, listed ~ (' (' ~ note ~ ')' if note else '')) -%}
    {%- endif -%}
{%- endmacro %}

{% macro check_currency_setting(name) -%}
    {%- set currency = var(name, none) -%}
    {%- set currencies = csv_column_values(seed_file_path('currency_rates'), 'currency') -%}
    {%- if currency is not string or (currency | trim | upper) not in currencies -%}
        {%- do raise_setting_error(name, currency,
            "a currency listed in seeds/currency_rates.csv (" ~ (currencies | join(', ')) ~ ")") -%}
    {%- endif -%}
{%- endmacro %}

{% macro check_settings() -%}
    {#- on-run-start: every var against its kind and range in docs/settings.yml. -#}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- do check_unknown_settings() -%}

    {#- as_of_date: empty, or an ISO date (whether it lies inside the data is checked
        once the transactions are staged). YAML reads 2025-06-30 as a date. -#}
    {%- set as_of_date = var('as_of_date', '') -%}
    {%- set as_of_text = as_of_date | string | trim -%}
    {%- if as_of_date is none or (as_of_text != '' and not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', as_of_text)) -%}
        {%- do raise_setting_error('as_of_date', as_of_date,
            "empty ('', the last transaction day) or an ISO date such as 2025-06-30") -%}
    {%- elif as_of_text != '' -%}
        {%- set parsed = run_query("select try_cast('" ~ as_of_text ~ "' as date) is not null") -%}
        {%- if not parsed.columns[0].values()[0] -%}
            {%- do raise_setting_error('as_of_date', as_of_date,
                "a day that exists, as an ISO date such as 2025-06-30, or empty ('', the last transaction day)") -%}
        {%- endif -%}
    {%- endif -%}

    {%- do check_raw_timestamp_formats() -%}

    {%- set spec = settings_spec() -%}
    {%- set numbers = {} -%}
    {%- for name, setting in spec.items() -%}
        {%- set kind = setting['kind'] -%}
        {%- if kind == 'choice' -%}
            {%- do check_choice_setting(name, setting['values'], setting.get('unit')) -%}
        {%- elif kind == 'boolean' -%}
            {%- set value = var(name, none) -%}
            {%- if value not in [true, false, 'true', 'false', 'True', 'False'] -%}
                {%- do raise_setting_error(name, value, "true or false") -%}
            {%- endif -%}
        {%- elif kind == 'currency' -%}
            {%- do check_currency_setting(name) -%}
        {%- elif kind in ['number', 'integer', 'fraction_open', 'positive'] -%}
            {%- do numbers.update({name: check_number_setting(
                name, kind, setting.get('min', 0), setting.get('max'), setting['unit'])}) -%}
        {%- endif -%}
        {#- date (as_of_date) and timestamp_formats are checked above. -#}
    {%- endfor -%}

    {%- set social_weights = ['social_knowledge_weight', 'social_participation_weight', 'social_reach_weight'] -%}
    {%- set weight_total = namespace(value=0) -%}
    {%- for name in social_weights if numbers[name] is not none -%}
        {%- set weight_total.value = weight_total.value + numbers[name] -%}
    {%- endfor -%}
    {%- if weight_total.value == 0 and numbers[social_weights[0]] is not none -%}
        {{ stop_build(
            "Settings " ~ (social_weights | join(', ')) ~ " are all 0: at least one must be above 0 "
            ~ "(they weigh the parts of social_score). Set them in dbt_project.yml or with --vars (docs/settings.md).") }}
    {%- endif -%}

    {#- The customer key secret (macros/privacy.sql): its length only, never its value. -#}
    {%- set secret = run_query("select coalesce(length(" ~ customer_key_secret() ~ "), 0)").columns[0].values()[0] -%}
    {%- if secret == 0 -%}
        {%- set not_handed = 'customer_value.spark_dbt does not run dbt' if target.type == 'spark'
            else 'the profile does not load customer_value.dbt_plugin' -%}
        {{ log("CUSTOMER_KEY_SECRET is not set (or " ~ not_handed ~ "), so email_key"
            ~ " in marts.customer_segments is NULL. To publish a keyed hash of the email for joining back, set it to a"
            ~ " random secret: python -c \"import secrets; print(secrets.token_hex(32))\"", info=true) }}
    {%- elif secret < 16 -%}
        {{ stop_build(
            "CUSTOMER_KEY_SECRET is only " ~ secret ~ " characters long: use a random secret of at least 16"
            ~ " characters (python -c \"import secrets; print(secrets.token_hex(32))\"), kept out of the repository.") }}
    {%- endif -%}

    {{ return('') }}
{%- endmacro %}

{% macro check_raw_timestamp_formats() -%}
    {#- raw_timestamp_formats: {raw table: a DuckDB strptime format or a list of them}. -#}
    {%- set formats = var('raw_timestamp_formats', {}) -%}
    {%- set allowed = "empty ({}) or a map from raw table to a strptime format or a list of them, e.g."
        ~ " {transactions: '%d/%m/%Y %H:%M:%S'}; raw tables: " ~ (raw_tables().keys() | join(', ')) -%}
    {%- if formats is none or formats == '' -%}
        {{ return(none) }}
    {%- elif formats is not mapping -%}
        {%- do raise_setting_error('raw_timestamp_formats', formats, allowed) -%}
    {%- endif -%}
    {%- for table_name, table_formats in formats.items() -%}
        {%- set listed = [table_formats] if table_formats is string else table_formats -%}
        {%- if table_name not in raw_tables() or listed is string or listed is not iterable or listed is mapping
            or listed | length == 0 -%}
            {%- do raise_setting_error('raw_timestamp_formats', formats, allowed) -%}
        {%- endif -%}
        {%- for format in listed -%}
            {#- DuckDB's strptime specifiers (a wrong one would fail every model reading the table). -#}
            {%- if format is not string or '%' not in format
                or modules.re.search('%(?!-?[aAwdbBmyYHIpMSgfnzZjUWcxX%])', format) -%}
                {%- do raise_setting_error('raw_timestamp_formats', formats, allowed) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
{%- endmacro %}

{% macro check_as_of_date_in_data() -%}
    {#- Post-hook of stg_raw__transactions: a set as_of_date must not lie before the
        first valid transaction (every measure would be empty). -#}
    {%- set as_of_text = var('as_of_date', '') | string | trim -%}
    {%- if not execute or as_of_text == '' -%}
        {{ return('') }}
    {%- endif -%}
    {%- set span = run_query(
        "select cast(min(transacted_at) as date), cast(max(transacted_at) as date) from " ~ this).rows[0] -%}
    {%- if span[0] is not none and as_of_text < (span[0] | string) -%}
        {{ stop_build(
            "Setting as_of_date = " ~ as_of_text ~ " is before the data: the first transaction is on "
            ~ span[0] ~ " (the last on " ~ span[1] ~ "). Use a date from " ~ span[0]
            ~ " on, or leave as_of_date empty for the last transaction day.") }}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}
