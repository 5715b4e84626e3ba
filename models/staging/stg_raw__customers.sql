with

customers as (
    select * from {{ ref('base_raw__customers') }}
    where rejection_reason is null
),

final as (
    select
        customer_id,
        email,
        case when email is not null then sha256(email) end as email_sha256,
        created_at,
        acquisition_channel,
        country
    from customers
)

select * from final
