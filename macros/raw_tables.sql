{#- The raw tables with their keys, for the models and tests that go over all of them. -#}
{% macro raw_tables() -%}
    {{ return({
        'customers': 'customer_id',
        'transactions': 'transaction_id',
        'email_campaigns': 'campaign_id',
        'email_events': 'event_id',
        'referrals': 'referral_id',
        'social_profiles': "customer_id || '|' || network",
        'community_activity': 'activity_id',
        'wallet_surveys': 'response_id',
    }) }}
{%- endmacro %}

{% macro raw_table_key_columns(table_name) -%}
    {#- The columns of a raw table's key (raw_tables() joins two of them with '|'). -#}
    {{ return({'social_profiles': ['customer_id', 'network']}.get(table_name, [raw_tables()[table_name]])) }}
{%- endmacro %}

{% macro raw_table_customer_column(table_name) -%}
    {#- The column by which a row of the raw table names a customer (the customer of a
        transaction, an email event, a social profile...; a referral's referrer), or none
        (email_campaigns name no customer). -#}
    {{ return({
        'customers': 'customer_id',
        'transactions': 'customer_id',
        'email_campaigns': none,
        'email_events': 'customer_id',
        'referrals': 'referrer_customer_id',
        'social_profiles': 'customer_id',
        'community_activity': 'customer_id',
        'wallet_surveys': 'customer_id',
    }[table_name]) }}
{%- endmacro %}
