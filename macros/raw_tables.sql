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
