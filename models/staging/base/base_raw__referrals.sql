-- One row per raw referrals row, typed, with the first contract rule it breaks.
-- Beyond the row rules: self-referrals, and converted referrals that close a cycle
-- (A refers B, B refers A, directly or through others), are rejected, so that the
-- referral network downstream is a forest and its recursive walks always end.
with recursive

source as not materialized (
    select * from {{ raw_rows('referrals', announce=true) }}
),

customers as (
    select customer_id from {{ ref('base_raw__customers') }}
    where rejection_reason is null
),

currencies as (
    select currency from {{ ref('stg_reference__exchange_rates') }}
),

typed as not materialized (
    select
        {{ clean_text('referral_id') }} as referral_id,
        {{ clean_text('referrer_customer_id') }} as referrer_customer_id,
        {{ clean_text('referee_customer_id') }} as referee_customer_id,
        try_cast(referred_at as timestamp) as referred_at,
        try_cast(converted_at as timestamp) as converted_at,
        {{ clean_enum('channel') }} as channel,
        try_cast(reward_cost as decimal(18, 2)) as reward_cost,
        upper({{ clean_text('currency') }}) as currency,
        try_cast(would_have_joined_anyway as boolean) as would_have_joined_anyway,
        raw_file,
        raw_file_row,
        case
            when {{ is_blank('referral_id') }} or {{ is_blank('referrer_customer_id') }} then 'missing_id'
            when referred_at is null
                or (reward_cost is not null and {{ is_blank('currency') }})
                then 'missing_value'
            when {{ is_malformed('referred_at', 'timestamp') }}
                or {{ is_malformed('converted_at', 'timestamp') }}
                then 'malformed_timestamp'
            when {{ is_malformed('reward_cost', 'decimal(18, 2)') }}
                or {{ is_malformed('would_have_joined_anyway', 'boolean') }}
                then 'malformed_value'
            when {{ clean_enum('channel') }} is not null
                and not {{ in_contract_values(clean_enum('channel'), 'referral_channel') }}
                then 'unknown_type'
            when {{ clean_text('currency') }} is not null
                and upper({{ clean_text('currency') }}) not in (select currencies.currency from currencies)
                then 'unknown_currency'
            when try_cast(reward_cost as decimal(18, 2)) < 0 then 'out_of_range'
            when try_cast(referred_at as timestamp) > {{ run_started_timestamp() }}
                or try_cast(converted_at as timestamp) > {{ run_started_timestamp() }}
                then 'future_timestamp'
            when {{ clean_text('referrer_customer_id') }} = {{ clean_text('referee_customer_id') }}
                then 'self_referral'
        end as row_rejection_reason
    from source
),

{{ reject_duplicate_keys('typed', ['referral_id']) }},

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
        [referrer_customer_id] as visited
    from converted_edges

    union all

    select
        ancestry.referral_id,
        ancestry.start_referee_customer_id,
        parents.referrer_customer_id as ancestor_customer_id,
        list_append(ancestry.visited, parents.referrer_customer_id) as visited
    from ancestry
    inner join converted_edges as parents
        on ancestry.ancestor_customer_id = parents.referee_customer_id
    where ancestry.ancestor_customer_id != ancestry.start_referee_customer_id
        and not list_contains(ancestry.visited, parents.referrer_customer_id)
),

cyclic_referrals as (
    select distinct referral_id from ancestry
    where ancestor_customer_id = start_referee_customer_id
),

final as (
    select
        referenced.* exclude (referenced.rejection_reason),
        coalesce(
            referenced.rejection_reason,
            case when cyclic_referrals.referral_id is not null then 'referral_cycle' end
        ) as rejection_reason
    from referenced
    left join cyclic_referrals
        on referenced.referral_id = cyclic_referrals.referral_id
)

select * from final
