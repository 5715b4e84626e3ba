-- What the purchase models are compared on, one row per customer who bought by
-- calibration_ends_on: docs/measures.md, "Which purchase model".
with

purchase_days as (
    select * from {{ ref('int_purchase_days_aggregated') }}
),

settings as (
    select * from {{ ref('int_analysis_settings') }}
),

calibration_days as (
    select
        purchase_days.*,
        settings.calibration_ends_on as summary_ends_on
    from purchase_days
    cross join settings
    where purchase_days.purchase_day <= settings.calibration_ends_on
),

calibration as (
    {{ purchase_summary('calibration_days', 'summary_ends_on') }}
),

holdout as (
    select
        purchase_days.customer_id,
        count(*) as holdout_purchase_day_count,
        sum(purchase_days.net_amount) as holdout_net_revenue
    from purchase_days
    cross join settings
    where purchase_days.purchase_day > settings.calibration_ends_on
    group by purchase_days.customer_id
),

final as (
    select
        calibration.customer_id,
        calibration.frequency,
        calibration.recency_weeks,
        calibration.t_weeks,
        calibration.monetary_value,
        {{ day_diff('settings.calibration_ends_on', 'settings.as_of_date') }} / 7 as holdout_weeks,
        coalesce(holdout.holdout_purchase_day_count, 0) as holdout_purchase_day_count,
        coalesce(holdout.holdout_net_revenue, 0) as holdout_net_revenue
    from calibration
    cross join settings
    left join holdout
        on calibration.customer_id = holdout.customer_id
)

select * from final
