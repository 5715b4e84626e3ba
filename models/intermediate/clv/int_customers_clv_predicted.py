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

from customer_value.clv.tables import fit_from_table, prediction_batches


def model(dbt, session):
    dbt.config(materialized="table")
    # Rows in a fixed order, so that every chunk holds the same customers on every build.
    summary = (
        dbt.ref("int_customers_rfm_summarised")
        .project("customer_id, frequency, recency_weeks, t_weeks, monetary_value, margin_rate")
        .to_arrow_table()
        .sort_by("customer_id")
    )
    settings = dbt.ref("int_analysis_settings").to_arrow_table().to_pylist()[0]
    parameters = dbt.ref("int_clv_models_fitted").to_arrow_table()
    [chosen] = [
        row["model_name"]
        for row in dbt.ref("int_clv_models_compared").project("model_name, is_chosen").to_arrow_table().to_pylist()
        if row["is_chosen"]
    ]
    discount_factors = dbt.ref("int_discount_factors_computed").to_arrow_table()
    return prediction_batches(
        summary,
        fit_from_table(parameters, chosen),
        fit_from_table(parameters, "gamma_gamma"),
        horizon_months=int(settings["clv_horizon_months"]),
        annual_discount_rate=float(settings["annual_discount_rate"]),
        list_months=discount_factors.num_rows,
        interval_level=float(settings["clv_interval_level"]),
    )
