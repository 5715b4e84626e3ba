-- Social value part 3, reach, one row per customer known on as_of_date: docs/measures.md,
-- "Social value".
with

customers as (
    select * from {{ ref('int_customers_filtered') }}
),

profiles as (
    select * from {{ ref('int_social_profiles_filtered') }}
),

network_weights as (
    select * from {{ ref('social_network_weights') }}
),

files as (
    select * from {{ ref('int_raw_files_detected') }}
),

social_settings as (
    select * from {{ ref('int_social_settings') }}
),

per_customer as (
    select
        profiles.customer_id,
        sum(coalesce(profiles.followers, 0)) as total_followers,
        {{ ordered_sum(
            'coalesce(network_weights.reach_weight, 0) * coalesce(profiles.followers, 0)',
            'profiles.network',
        ) }} as weighted_contacts
    from profiles
    left join network_weights
        on profiles.network = network_weights.network
    group by profiles.customer_id
),

-- Zero for a customer without followers, NULL for everyone without the file.
joined as (
    select
        customers.customer_id,
        files.has_social_profiles_file,
        case when files.has_social_profiles_file then coalesce(per_customer.total_followers, 0) end
            as total_followers,
        case when files.has_social_profiles_file then coalesce(per_customer.weighted_contacts, 0) end
            as weighted_contacts
    from customers
    cross join files
    left join per_customer
        on customers.customer_id = per_customer.customer_id
),

final as (
    select
        joined.*,
        -- least() skips NULLs, so without the file it would say 100: test the flag.
        case
            when joined.has_social_profiles_file
                then 100 * least(
                        1.0,
                        log10(1 + joined.weighted_contacts) / log10(1 + social_settings.reach_full_score_contacts)
                    )
        end as reach_score
    from joined
    cross join social_settings
)

select * from final
