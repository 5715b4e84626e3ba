-- Email engagement, one row per customer known on as_of_date: docs/measures.md,
-- "Email engagement".
with

customers as (
    select * from {{ ref('int_customers_filtered') }}
),

events as (
    select * from {{ ref('stg_raw__email_events') }}
),

files as (
    select * from {{ ref('int_raw_files_detected') }}
),

settings as (
    select * from {{ ref('int_analysis_settings') }}
),

events_to_date as (
    select events.*
    from events
    cross join settings
    where events.occurred_at < settings.as_of_cutoff_at
),

-- One pass over the events: a row per customer and campaign (a message; NULL campaign:
-- the customer's events without one), then a row per customer.
messages as (
    select
        customer_id,
        campaign_id,
        count(*) filter (where event_type = 'bounce') > 0 as is_bounced,
        count(*) filter (where event_type in ('delivered', 'open', 'click', 'forward')) > 0 as has_delivery_evidence,
        count(*) filter (where event_type = 'open') as open_event_count,
        count(*) filter (where event_type = 'click') as click_event_count,
        count(*) filter (where event_type = 'forward') as forward_event_count,
        coalesce(sum(forward_recipients) filter (where event_type = 'forward'), 0) as forward_recipient_count,
        coalesce(
            min(occurred_at) filter (where event_type = 'delivered'),
            min(occurred_at) filter (where event_type in ('open', 'click', 'forward'))
        ) as delivered_at,
        max(occurred_at) filter (where event_type = 'click') as last_clicked_at,
        count(*) filter (where event_type = 'unsubscribe') > 0 as has_unsubscribed,
        count(*) filter (where event_type = 'complaint') > 0 as has_complained
    from events_to_date
    group by customer_id, campaign_id
),

messages_classified as (
    select
        *,
        campaign_id is not null as is_message,
        campaign_id is not null and has_delivery_evidence and not is_bounced as is_delivered
    from messages
),

per_customer as (
    select
        customer_id,
        nullif(count(*) filter (where is_message), 0) as message_count,
        count(*) filter (where is_message and is_bounced) as bounced_message_count,
        count(*) filter (where is_delivered) as delivered_message_count,
        count(*) filter (where is_delivered and open_event_count > 0) as unique_open_count,
        coalesce(sum(open_event_count) filter (where is_delivered), 0) as total_open_count,
        count(*) filter (where is_delivered and click_event_count > 0) as unique_click_count,
        coalesce(sum(click_event_count) filter (where is_delivered), 0) as total_click_count,
        coalesce(sum(forward_event_count) filter (where is_delivered), 0) as forward_count,
        coalesce(sum(forward_recipient_count) filter (where is_delivered), 0) as forward_recipient_count,
        max(delivered_at) filter (where is_delivered) as last_delivered_at,
        max(last_clicked_at) filter (where is_delivered) as last_clicked_at,
        bool_or(has_unsubscribed) as has_unsubscribed,
        bool_or(has_complained) as has_complained
    from messages_classified
    group by customer_id
),

joined as (
    select
        customers.customer_id,
        files.has_email_events_file,
        per_customer.message_count,
        per_customer.bounced_message_count,
        per_customer.delivered_message_count,
        per_customer.unique_open_count,
        per_customer.total_open_count,
        per_customer.unique_click_count,
        per_customer.total_click_count,
        per_customer.forward_count,
        per_customer.forward_recipient_count,
        per_customer.last_delivered_at,
        per_customer.last_clicked_at,
        per_customer.has_unsubscribed,
        per_customer.has_complained,
        settings.as_of_date
    from customers
    cross join files
    cross join settings
    left join per_customer
        on customers.customer_id = per_customer.customer_id
),

-- A customer with delivered mail is ranked; everyone else gets NULL ranks.
ranked as (
    select
        customer_id,
        percent_rank() over (order by unique_open_count) as open_percentile,
        percent_rank() over (order by unique_click_count) as click_percentile,
        percent_rank() over (order by forward_count, forward_recipient_count) as forward_percentile
    from joined
    where delivered_message_count > 0
),

final as (
    select
        joined.customer_id,
        joined.has_email_events_file,
        case
            when not joined.has_email_events_file then 'no_email_events_file'
            when joined.message_count is null then 'never_emailed'
            when joined.delivered_message_count = 0 then 'nothing_delivered'
            else 'delivered'
        end as email_engagement_status,
        {% for column in [
            'message_count', 'bounced_message_count', 'delivered_message_count',
            'unique_open_count', 'total_open_count', 'unique_click_count', 'total_click_count',
            'forward_count', 'forward_recipient_count',
        ] %}
            case when joined.has_email_events_file then coalesce(joined.{{ column }}, 0) end as {{ column }},
        {% endfor %}
        case
            when joined.delivered_message_count > 0
                then joined.unique_open_count / joined.delivered_message_count
        end as unique_open_rate,
        case
            when joined.delivered_message_count > 0
                then joined.unique_click_count / joined.delivered_message_count
        end as unique_click_rate,
        joined.last_delivered_at,
        {{ day_diff('cast(joined.last_delivered_at as date)', 'joined.as_of_date') }} as days_since_last_delivery,
        joined.last_clicked_at,
        {{ day_diff('cast(joined.last_clicked_at as date)', 'joined.as_of_date') }} as days_since_last_click,
        case when joined.has_email_events_file then coalesce(joined.has_unsubscribed, false) end as has_unsubscribed,
        case when joined.has_email_events_file then coalesce(joined.has_complained, false) end as has_complained,
        ranked.open_percentile,
        ranked.click_percentile,
        ranked.forward_percentile
    from joined
    left join ranked
        on joined.customer_id = ranked.customer_id
)

select * from final
