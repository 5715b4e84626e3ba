-- One row per raw social_profiles row, typed, with the first contract rule it breaks and
-- the column that breaks it.
-- The key is (customer_id, network); an older observation of the same key is a duplicate
-- (of two observations at the same time, the later in the file).
with

source as {{ not_materialized() }} (
    select * from {{ raw_rows('social_profiles', announce=true) }}
),

customers as (
    select customer_id from {{ ref('base_raw__customers') }}
    where rejection_reason is null
),

typed as {{ not_materialized() }} (
    select
        {{ clean_text('customer_id') }} as customer_id,
        {{ clean_enum('network') }} as network,
        try_cast(followers as integer) as followers,
        try_cast(following as integer) as following,
        try_cast(posts_90d as integer) as posts_90d,
        try_cast(brand_mentions_90d as integer) as brand_mentions_90d,
        try_cast(is_public as boolean) as is_public,
        {{ raw_timestamp('observed_at', 'social_profiles') }} as observed_at,
        followers as raw_followers,
        following as raw_following,
        posts_90d as raw_posts_90d,
        brand_mentions_90d as raw_brand_mentions_90d,
        is_public as raw_is_public,
        observed_at as raw_observed_at,
        raw_file,
        raw_file_row
    from source
),

checked as {{ not_materialized() }} (
    select
        * {{ star_exclude() }} (
            raw_followers, raw_following, raw_posts_90d, raw_brand_mentions_90d, raw_is_public, raw_observed_at
        ),
        {{ first_broken_rule([
            ['missing_id', 'customer_id', 'customer_id is null'],
            ['missing_value', 'network', 'network is null'],
            ['missing_value', 'observed_at', 'raw_observed_at is null'],
            ['malformed_timestamp', 'observed_at', is_unreadable('raw_observed_at', 'observed_at')],
            ['malformed_value', 'followers', is_unreadable('raw_followers', 'followers')],
            ['malformed_value', 'following', is_unreadable('raw_following', 'following')],
            ['malformed_value', 'posts_90d', is_unreadable('raw_posts_90d', 'posts_90d')],
            ['malformed_value', 'brand_mentions_90d', is_unreadable('raw_brand_mentions_90d', 'brand_mentions_90d')],
            ['malformed_value', 'is_public', is_unreadable('raw_is_public', 'is_public')],
            ['unknown_type', 'network', 'not ' ~ in_contract_values('network', 'network')],
            ['out_of_range', 'followers', 'followers < 0'],
            ['out_of_range', 'following', 'following < 0'],
            ['out_of_range', 'posts_90d', 'posts_90d < 0'],
            ['out_of_range', 'brand_mentions_90d', 'brand_mentions_90d < 0'],
            ['future_timestamp', 'observed_at', 'observed_at > ' ~ run_started_timestamp()],
        ]) }} as row_rejection
    from typed
),

{{ reject_duplicate_keys('checked', ['customer_id', 'network'], 'observed_at desc, raw_file, raw_file_row') }},

final as (
    {{ reject_orphan_references('deduplicated', [['customer_id', 'customers', 'customer_id']]) }}
)

select * from final
