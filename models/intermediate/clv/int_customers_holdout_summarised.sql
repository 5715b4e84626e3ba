-- The data the purchase models are compared on (int_clv_models_compared): each customer
-- who bought by the end of the calibration period (calibration_ends_on, var
-- clv_holdout_months before as_of_date) with their summary at that day (macro
-- purchase_summary), and what they did in the holdout period after it, up to
-- as_of_date: purchase days and net revenue. Purchase days are int_purchase_days_aggregated's,
-- so a refund in the holdout of a calibration purchase nets against that purchase's day.
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
        date_diff('day', settings.calibration_ends_on, settings.as_of_date) / 7.0 as holdout_weeks,
        coalesce(holdout.holdout_purchase_day_count, 0) as holdout_purchase_day_count,
        coalesce(holdout.holdout_net_revenue, 0) as holdout_net_revenue
    from calibration
    cross join settings
    left join holdout
        on calibration.customer_id = holdout.customer_id
)

select * from final
