{#- Every setting (dbt var) checked before any model runs (on-run-start), against the
    type and range documented in docs/settings.md. A wrong one stops the run at once
    with one line naming the var, its value and what is allowed. Settings that can only
    be judged against the data (as_of_date inside the data) are checked where the data
    is staged: check_as_of_date_in_data(), a post-hook of stg_raw__transactions. -#}

{% macro settings_spec() -%}
    {#- var name -> [kind, minimum, maximum, what it is]. Kinds: fraction_open (strictly
        between min and max), number / integer (min <= value <= max; none = unbounded),
        positive (number > 0). Special cases (as_of_date, raw_format,
        reporting_currency) are checked in check_settings() itself. -#}
    {{ return({
        'max_rejected_share': ['number', 0, 1, 'a share of rows'],
        'default_margin_rate': ['number', 0, 1, 'a margin rate'],
        'clv_horizon_months': ['integer', 0, none, 'months'],
        'annual_discount_rate': ['number', 0, none, 'an annual rate'],
        'clv_min_customers': ['integer', 1, none, 'a number of customers'],
        'clv_holdout_months': ['integer', 1, none, 'months'],
        'clv_selection_noise_z': ['number', 0, none, 'a number of standard errors'],
        'clv_interval_level': ['fraction_open', 0, 1, 'a probability'],
        'crv_horizon_months': ['integer', 0, none, 'months'],
        'would_have_joined_anyway_prior': ['number', 0, 1, 'a share'],
        'would_have_joined_anyway_prior_weight': ['number', 0, none, 'a number of answers'],
        'referral_decay': ['number', 0, 1, 'a weight per level'],
        'referral_max_depth': ['integer', 1, none, 'a number of levels'],
        'referral_evidence_z': ['number', 0, none, 'a normal quantile'],
        'high_clv_percentile': ['fraction_open', 0, 1, 'a percentile rank'],
        'high_crv_percentile': ['fraction_open', 0, 1, 'a percentile rank'],
        'high_social_score': ['number', 0, 100, 'a social score'],
        'high_social_percentile': ['fraction_open', 0, 1, 'a percentile rank'],
        'email_advocate_min_forwards': ['integer', 1, none, 'a number of forwards'],
        'active_min_probability_alive': ['number', 0, 1, 'a probability'],
        'at_risk_max_probability_alive': ['number', 0, 1, 'a probability'],
        'win_back_value_percentile': ['number', 0, 1, 'a percentile rank'],
        'lapsing_window_days': ['integer', 1, none, 'days'],
        'light_buyer_window_months': ['integer', 1, none, 'months'],
        'light_buyer_spend_percentile': ['fraction_open', 0, 1, 'a percentile rank'],
        'loyal_share_of_wallet': ['number', 0, 1, 'a share'],
        'share_prompt_window_days': ['integer', 1, none, 'days'],
        'email_advocate_percentile': ['fraction_open', 0, 1, 'a percentile rank'],
        'social_knowledge_helpful_vote_weight': ['number', 0, none, 'a weight'],
        'social_knowledge_half_life_days': ['positive', 0, none, 'days'],
        'social_knowledge_category_bonus': ['number', 0, none, 'a share'],
        'social_knowledge_half_saturation': ['positive', 0, none, 'points'],
        'social_post_points': ['number', 0, none, 'points'],
        'social_brand_mention_points': ['number', 0, none, 'points'],
        'social_public_audience_weight': ['number', 0, none, 'a weight'],
        'social_intimate_audience_weight': ['number', 0, none, 'a weight'],
        'social_active_network_points': ['number', 0, none, 'points'],
        'social_forward_recipient_points': ['number', 0, none, 'points'],
        'social_converted_referee_points': ['number', 0, none, 'points'],
        'social_participation_half_saturation': ['positive', 0, none, 'points'],
        'social_reach_full_score_contacts': ['positive', 0, none, 'contacts'],
        'social_knowledge_weight': ['number', 0, none, 'a weight'],
        'social_participation_weight': ['number', 0, none, 'a weight'],
        'social_reach_weight': ['number', 0, none, 'a weight'],
    }) }}
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
    {#- A var given with --vars that dbt_project.yml does not declare (a typo) would be
        ignored without a word: stop instead, suggesting the closest declared name. -#}
    {%- set given = invocation_args_dict.get('vars') or {} -%}
    {%- if given is not mapping or given | length == 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set project_yml = run_query(
        "select content from read_text(" ~ sql_text(project_dir() ~ '/dbt_project.yml') ~ ")").columns[0].values()[0] -%}
    {%- set declared = (fromyaml(project_yml).get('vars') or {}).keys() | list -%}
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

{% macro check_settings() -%}
    {#- on-run-start: every var against its documented type and range. -#}
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

    {%- set raw_format = var('raw_format', none) -%}
    {%- if raw_format is not string or (raw_format | lower) not in ['parquet', 'csv'] -%}
        {%- do raise_setting_error('raw_format', raw_format, "parquet or csv") -%}
    {%- endif -%}

    {%- do check_raw_timestamp_formats() -%}

    {%- set accept = var('accept_rejected_rows', false) -%}
    {%- if accept not in [true, false, 'true', 'false', 'True', 'False'] -%}
        {%- do raise_setting_error('accept_rejected_rows', accept, "true or false") -%}
    {%- endif -%}

    {%- set purchase_model = var('clv_purchase_model', none) -%}
    {%- set purchase_models = ['auto', 'bg_nbd', 'mbg_nbd', 'pareto_nbd'] -%}
    {%- if purchase_model is not string or (purchase_model | trim | lower) not in purchase_models -%}
        {%- do raise_setting_error('clv_purchase_model', purchase_model,
            "one of " ~ (purchase_models | join(', ')) ~ " (auto: the data choose, marts.clv_model_comparison)") -%}
    {%- endif -%}

    {%- set currency = var('reporting_currency', none) -%}
    {%- set currencies = run_query(
        "select upper(trim(currency)) from read_csv('" ~ seed_file_path('currency_rates')
        ~ "', header = true, all_varchar = true) order by 1").columns[0].values() | list -%}
    {%- if currency is not string or (currency | trim | upper) not in currencies -%}
        {%- do raise_setting_error('reporting_currency', currency,
            "a currency listed in seeds/currency_rates.csv (" ~ (currencies | join(', ')) ~ ")") -%}
    {%- endif -%}

    {%- set numbers = {} -%}
    {%- for name, spec in settings_spec().items() -%}
        {%- do numbers.update({name: check_number_setting(name, spec[0], spec[1], spec[2], spec[3])}) -%}
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
        {{ log("CUSTOMER_KEY_SECRET is not set (or the profile does not load customer_value.dbt_plugin), so email_key"
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
