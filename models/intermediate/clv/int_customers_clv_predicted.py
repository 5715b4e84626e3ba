"""Predict each buyer's purchases, spend and CLV from the fitted models: the purchase model
int_clv_models_compared chose (BG/NBD, MBG/NBD or Pareto/NBD) and Gamma-Gamma.

One row per customer of int_customers_rfm_summarised: probability_alive,
expected_purchases and expected_spend over the CLV horizon, predicted_clv
(customer_value.clv.predict_clv: monthly expected margin, discounted), its interval
(predicted_clv_low, predicted_clv_high: customer_value.clv.intervals, at var
clv_interval_level), predicted_clv_if_alive, and
expected_margin_by_month, the undiscounted margin of each month for which
int_discount_factors_computed has a factor, which the referral value models discount.
NULL with clv_prediction_reason when a model could not be fitted.
"""

from functools import partial

from customer_value.clv.tables import fit_from_table, prediction_batches
from customer_value.model_io import arrow_table, first_row, map_customers


def model(dbt, session):
    dbt.config(materialized="table")
    settings = first_row(dbt.ref("int_analysis_settings"))
    parameters = arrow_table(dbt.ref("int_clv_models_fitted"))
    [chosen] = [
        row["model_name"]
        for row in arrow_table(dbt.ref("int_clv_models_compared"), "model_name, is_chosen").to_pylist()
        if row["is_chosen"]
    ]
    list_months = arrow_table(dbt.ref("int_discount_factors_computed"), "month_number").num_rows
    # Each customer scored on their own row; the rows are given sorted by customer, so
    # that every chunk holds the same customers on every build (on Spark: per partition).
    return map_customers(
        dbt.ref("int_customers_rfm_summarised"),
        "customer_id, frequency, recency_weeks, t_weeks, monetary_value, margin_rate",
        partial(
            prediction_batches,
            purchase_fit=fit_from_table(parameters, chosen),
            gamma_gamma=fit_from_table(parameters, "gamma_gamma"),
            horizon_months=int(settings["clv_horizon_months"]),
            annual_discount_rate=float(settings["annual_discount_rate"]),
            list_months=list_months,
            interval_level=float(settings["clv_interval_level"]),
        ),
    )
