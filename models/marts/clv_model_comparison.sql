-- The purchase models compared on the user's own data, one row per model: fitted on the
-- history up to calibration_ends_on, scored on the holdout up to as_of_date, and the one
-- the predictions use (is_chosen) with the reason.
with

compared as (
    select * from {{ ref('int_clv_models_compared') }}
),

final as (
    select
        model_name,
        model_label,
        is_chosen,
        selection_reason,
        as_of_date,
        calibration_ends_on,
        holdout_weeks,
        calibration_customers,
        is_converged,
        fit_message,
        calibration_log_likelihood,
        history_log_likelihood,
        actual_holdout_purchases,
        predicted_holdout_purchases,
        purchases_error_share,
        purchases_mae,
        purchases_rmse,
        actual_holdout_revenue,
        predicted_holdout_revenue,
        revenue_error_share,
        revenue_mae,
        revenue_rmse,
        selection_score,
        purchases_excess_z,
        revenue_excess_z,
        is_within_noise,
        {{ built_at() }} as built_at
    from compared
)

select * from final
