{% macro segment_groups() -%}
    {#- The named groups of customer_segments, (group name, flag column), in one place for
        the recommended action (int_customers_actions_recommended), segment_summary and
        its reconciliation test. A customer can be in several groups; the actions seed
        (segment_actions) says which group's action wins. -#}
    {{ return([
        ('lapsing_high_value', 'is_lapsing_high_value'),
        ('lapsed_high_value', 'is_lapsed_high_value'),
        ('departed_referrer', 'is_departed_referrer'),
        ('likely_departed', 'is_likely_departed'),
        ('prospect_with_referral_value', 'is_prospect_with_referral_value'),
        ('ambassador', 'is_ambassador'),
        ('due_share_prompt', 'is_due_share_prompt'),
        ('loyal_light_buyer', 'is_loyal_light_buyer'),
    ]) }}
{%- endmacro %}
