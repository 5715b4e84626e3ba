{#- The enumerations of docs/raw-data-contract.md, in one place for the base models. -#}
{% macro contract_values(name) -%}
    {%- set values = {
        'acquisition_channel': ['referral', 'paid_search', 'paid_social', 'organic', 'email', 'affiliate', 'offline', 'unknown'],
        'transaction_type': ['purchase', 'refund'],
        'campaign_type': ['promotional', 'newsletter', 'referral_invite', 'transactional'],
        'event_type': ['sent', 'delivered', 'open', 'click', 'forward', 'bounce', 'unsubscribe', 'complaint'],
        'referral_channel': ['referral_code', 'share_link', 'email_forward', 'in_person'],
        'network': ['twitter', 'instagram', 'facebook', 'linkedin', 'tiktok', 'youtube', 'blog', 'forum', 'other'],
        'activity_type': ['review', 'rating', 'question', 'answer', 'forum_post', 'ugc'],
    } -%}
    {{ return(values[name]) }}
{%- endmacro %}

{% macro in_contract_values(expression, name) -%}
    ({{ expression }} in ('{{ contract_values(name) | join("', '") }}'))
{%- endmacro %}
