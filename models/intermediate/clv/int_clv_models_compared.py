"""Compare the purchase models on the user's own data and choose the one the predictions
use (customer_value.clv.selection): each fitted on the history up to calibration_ends_on,
scored on the holdout up to as_of_date (int_customers_holdout_summarised), chosen by the
lowest holdout error (among errors within var clv_selection_noise_z standard errors of it,
the highest log-likelihood on the whole history) unless var clv_purchase_model names one. One row per purchase model,
with its mean holdout purchases by calibration frequency as a list.
"""

from customer_value.clv.selection import HoldoutData, comparison_table
from customer_value.model_io import arrow_table, first_row, model_result


def model(dbt, session):
    dbt.config(materialized="table")
    holdout = arrow_table(
        dbt.ref("int_customers_holdout_summarised"),
        "customer_id, frequency, recency_weeks, t_weeks, monetary_value,"
        " holdout_purchase_day_count, holdout_net_revenue",
        sort_by="customer_id",
    )
    settings = first_row(dbt.ref("int_analysis_settings"))
    fitted = arrow_table(dbt.ref("int_clv_models_fitted"), "model_name, is_converged, log_likelihood").to_pylist()
    comparison = comparison_table(
        HoldoutData.from_arrow(holdout, settings["as_of_date"], settings["calibration_ends_on"]),
        full_converged={row["model_name"]: bool(row["is_converged"]) for row in fitted},
        full_log_likelihoods={row["model_name"]: row["log_likelihood"] for row in fitted},
        requested=settings["clv_purchase_model"],
        min_customers=int(settings["clv_min_customers"]),
        as_of_date=settings["as_of_date"],
        calibration_ends_on=settings["calibration_ends_on"],
        noise_z=float(settings["clv_selection_noise_z"]),
    )
    return model_result(session, comparison)
