-- One row per raw referrals row, typed, with the first contract rule it breaks and the
-- column that breaks it.
-- Beyond the row rules: self-referrals, and converted referrals that close a cycle
-- (A refers B, B refers A, directly or through others), are rejected, so that the
-- referral network downstream is a forest and its recursive walks always end.
{{ config(pre_hook=unbounded_recursion_hooks()) }}

with recursive

source as {{ not_materialized() }} (
    select * from {{ raw_rows('referrals', announce=true) }}
),

customers as (
    select customer_id from {{ ref('base_raw__customers') }}
    where rejection_reason is null
),

currencies as (
    select currency from {{ ref('stg_reference__exchange_rates') }}
),

typed as {{ not_materialized() }} (
    select
        {%- set column_types = raw_column_types('referrals') %}
        {{ clean_text('referral_id') }} as referral_id,
        {{ clean_text('referrer_customer_id') }} as referrer_customer_id,
        {{ clean_text('referee_customer_id') }} as referee_customer_id,
        {{ raw_timestamp('referred_at', 'referrals', column_types) }} as referred_at,
        {{ raw_timestamp('converted_at', 'referrals', column_types) }} as converted_at,
        {{ clean_enum('channel') }} as channel,
        try_cast(reward_cost as decimal(18, 2)) as reward_cost,
        upper({{ clean_text('currency') }}) as currency,
        try_cast(would_have_joined_anyway as boolean) as would_have_joined_anyway,
        referred_at as raw_referred_at,
        converted_at as raw_converted_at,
        reward_cost as raw_reward_cost,
        would_have_joined_anyway as raw_would_have_joined_anyway,
        raw_file,
        raw_file_row
    from source
),

checked as {{ not_materialized() }} (
    select
        typed.* {{ star_exclude() }} (
            typed.raw_referred_at, typed.raw_converted_at, typed.raw_reward_cost, typed.raw_would_have_joined_anyway
        ),
        {{ first_broken_rule([
            ['missing_id', 'referral_id', 'typed.referral_id is null'],
            ['missing_id', 'referrer_customer_id', 'typed.referrer_customer_id is null'],
            ['missing_value', 'referred_at', 'typed.raw_referred_at is null'],
            ['missing_value', 'currency', 'typed.raw_reward_cost is not null and typed.currency is null'],
            ['malformed_timestamp', 'referred_at', is_unreadable('typed.raw_referred_at', 'typed.referred_at')],
            ['malformed_timestamp', 'converted_at', is_unreadable('typed.raw_converted_at', 'typed.converted_at')],
            ['malformed_value', 'reward_cost', is_unreadable('typed.raw_reward_cost', 'typed.reward_cost')],
            ['malformed_value', 'would_have_joined_anyway',
                is_unreadable('typed.raw_would_have_joined_anyway', 'typed.would_have_joined_anyway')],
            ['unknown_type', 'channel', 'typed.channel is not null and not '
                ~ in_contract_values('typed.channel', 'referral_channel')],
            ['unknown_currency', 'currency',
                'typed.currency is not null and typed.currency not in (select currencies.currency from currencies)'],
            ['out_of_range', 'reward_cost', 'typed.reward_cost < 0'],
            ['future_timestamp', 'referred_at', 'typed.referred_at > ' ~ run_started_timestamp()],
            ['future_timestamp', 'converted_at', 'typed.converted_at > ' ~ run_started_timestamp()],
            ['self_referral', 'referee_customer_id', 'typed.referrer_customer_id = typed.referee_customer_id'],
        ]) }} as row_rejection
    from typed
),

{{ reject_duplicate_keys('checked', ['referral_id']) }},

referenced as (
    {{ reject_orphan_references('deduplicated', [
        ['referrer_customer_id', 'customers', 'customer_id'],
        ['referee_customer_id', 'customers', 'customer_id'],
    ]) }}
),

converted_edges as (
    select
        referral_id,
        referrer_customer_id,
        referee_customer_id
    from referenced
    where rejection_reason is null and referee_customer_id is not null
),

-- Walk up from each referral's referrer through who referred them; the walk stops
-- at a root, at a repeated person, or when it reaches the referral's own referee,
-- which means the referral closes a cycle.
ancestry as (
    select
        referral_id,
        referee_customer_id as start_referee_customer_id,
        referrer_customer_id as ancestor_customer_id,
        {{ array_of('referrer_customer_id') }} as visited
    from converted_edges

    union all

    select
        ancestry.referral_id,
        ancestry.start_referee_customer_id,
        parents.referrer_customer_id as ancestor_customer_id,
        {{ array_append_value('ancestry.visited', 'parents.referrer_customer_id') }} as visited
    from ancestry
    inner join converted_edges as parents
        on ancestry.ancestor_customer_id = parents.referee_customer_id
    where ancestry.ancestor_customer_id != ancestry.start_referee_customer_id
        and not {{ array_has('ancestry.visited', 'parents.referrer_customer_id') }}
),

cyclic_referrals as (
    select distinct referral_id from ancestry
    where ancestor_customer_id = start_referee_customer_id
),

final as (
    select
        referenced.* {{ star_exclude() }} (referenced.rejection_reason, referenced.rejected_column),
        coalesce(
            referenced.rejection_reason,
            case when cyclic_referrals.referral_id is not null then 'referral_cycle' end
        ) as rejection_reason,
        coalesce(
            referenced.rejected_column,
            case when cyclic_referrals.referral_id is not null then 'referee_customer_id' end
        ) as rejected_column
    from referenced
    left join cyclic_referrals
        on referenced.referral_id = cyclic_referrals.referral_id
)

select * from final
