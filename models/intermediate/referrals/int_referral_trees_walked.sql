-- The referral network, one row per customer known on as_of_date: docs/measures.md,
-- "Customer referral value (CRV)", the referral network.
{{ config(pre_hook=unbounded_recursion_hooks()) }}

with recursive

referrals as (
    select * from {{ ref('int_referrals_valued') }}
),

customers as (
    select * from {{ ref('stg_raw__customers') }}
),

settings as (
    select * from {{ ref('int_analysis_settings') }}
),

descendants as (
    select
        referrer_customer_id as ancestor_customer_id,
        referee_customer_id as descendant_customer_id,
        1 as level,
        realized_value + expected_remaining_value as referral_value
    from referrals

    union all

    select
        descendants.ancestor_customer_id,
        referrals.referee_customer_id as descendant_customer_id,
        descendants.level + 1 as level,
        referrals.realized_value + referrals.expected_remaining_value as referral_value
    from descendants
    inner join referrals
        on descendants.descendant_customer_id = referrals.referrer_customer_id
    cross join settings
    where descendants.level < settings.referral_max_depth
),

below as (
    select
        descendants.ancestor_customer_id as customer_id,
        count(*) filter (where descendants.level = 1) as direct_referee_count,
        count(*) filter (where descendants.level > 1) as indirect_referee_count,
        max(descendants.level) as referral_tree_depth,
        coalesce(
            {{ ordered_sum(
                'descendants.referral_value * power(settings.referral_decay, descendants.level - 1)',
                'descendants.descendant_customer_id',
                where='descendants.level > 1',
            ) }},
            0
        ) as indirect_referral_value
    from descendants
    cross join settings
    group by descendants.ancestor_customer_id
),

above as (
    select
        descendant_customer_id as customer_id,
        max(level) as referral_depth,
        max_by(ancestor_customer_id, level) as root_referrer_customer_id
    from descendants
    group by descendant_customer_id
),

final as (
    select
        customers.customer_id,
        coalesce(above.referral_depth, 0) as referral_depth,
        above.root_referrer_customer_id,
        coalesce(below.direct_referee_count, 0) as direct_referee_count,
        coalesce(below.indirect_referee_count, 0) as indirect_referee_count,
        coalesce(below.referral_tree_depth, 0) as referral_tree_depth,
        coalesce(below.indirect_referral_value, 0) as indirect_referral_value
    from customers
    left join below
        on customers.customer_id = below.customer_id
    left join above
        on customers.customer_id = above.customer_id
)

select * from final
