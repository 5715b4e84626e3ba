-- The one recommended action, one row per customer known on as_of_date (the groups: macro
-- segment_groups()): docs/measures.md, "The segments", what marketing does.
with

segmented as (
    select * from {{ ref('int_customers_segmented') }}
),

actions as (
    select * from {{ ref('segment_actions') }}
),

memberships as (
    select
        customer_id,
        'value_segment' as applies_to_kind,
        value_segment as applies_to
    from segmented
    {% for group_name, flag in segment_groups() %}
        union all
        select
            customer_id,
            'group' as applies_to_kind,
            '{{ group_name }}' as applies_to
        from segmented
        where {{ flag }}
    {% endfor %}
),

final as (
    select
        memberships.customer_id,
        actions.action_code as recommended_action,
        actions.action_text as recommended_action_text,
        actions.channel as recommended_action_channel,
        memberships.applies_to_kind || ':' || memberships.applies_to as recommended_action_reason
    from memberships
    inner join actions
        on memberships.applies_to_kind = actions.applies_to_kind
            and memberships.applies_to = actions.applies_to
    qualify row_number() over (partition by memberships.customer_id order by actions.priority) = 1
)

select * from final
