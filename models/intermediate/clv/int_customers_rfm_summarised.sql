-- The purchase summary, one row per buyer (macro purchase_summary): docs/measures.md,
-- "Customer lifetime value (CLV)".
with

purchase_days as (
    select * from {{ ref('int_purchase_days_aggregated') }}
),

settings as (
    select * from {{ ref('int_analysis_settings') }}
),

observed as (
    select
        purchase_days.*,
        settings.as_of_date as summary_ends_on
    from purchase_days
    cross join settings
),

summary as (
    {{ purchase_summary('observed', 'summary_ends_on') }}
),

final as (
    select
        summary.customer_id,
        summary.first_purchase_on,
        summary.last_purchase_on,
        summary.purchase_day_count,
        summary.frequency,
        summary.recency_weeks,
        summary.t_weeks,
        summary.monetary_value,
        summary.net_revenue,
        summary.net_margin,
        case
            when summary.net_revenue > 0
                then cast(summary.net_margin as double) / cast(summary.net_revenue as double)
            else settings.default_margin_rate
        end as margin_rate
    from summary
    cross join settings
)

select * from final
