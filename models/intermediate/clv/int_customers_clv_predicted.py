"""Predict each buyer's purchases, spend and CLV from the fitted models.

One row per customer of int_customers_rfm_summarised (prospects have no purchase
process to estimate; the mart gives them a predicted CLV of 0 and says why):

- probability_alive: BG/NBD P(alive | x, t_x, T) at as_of_date;
- expected_purchases: BG/NBD conditional expected purchase days over the CLV horizon;
- expected_spend: Gamma-Gamma conditional mean spend per purchase day (for one-time
  buyers the model's own formula gives the population mean);
- predicted_clv: sum over months m = 1..H of expected purchases in month m
  x expected spend x the customer's margin rate x (1 + annual rate)^(-m / 12)
  (customer_value.clv.predict_clv);
- expected_margin_by_month: the undiscounted expected margin of each month over the
  longer of the CLV and CRV horizons, for the referral value models.
When a model could not be fitted the predictions are NULL and clv_prediction_reason
says why.
"""

import numpy as np
import pyarrow as pa

from customer_value.clv import (
    BgNbdFit,
    GammaGammaFit,
    ModelNotFittedError,
    bgnbd_expected_purchases_by_period,
    month_end_weeks,
    predict_clv,
)


def column(table: pa.Table, name: str) -> np.ndarray:
    """A numeric column as float64, NULL as NaN."""
    return table[name].to_numpy(zero_copy_only=False).astype("float64")


def stored_fit(parameters: list[dict], model_name: str, fit_class, names: list[str]):
    """Rebuild a fit object from its rows in int_clv_models_fitted."""
    rows = {row["parameter_name"]: row for row in parameters if row["model_name"] == model_name}
    first = rows[names[0]]
    return fit_class(
        **{name: np.nan if rows[name]["parameter_value"] is None else rows[name]["parameter_value"] for name in names},
        log_likelihood=np.nan if first["log_likelihood"] is None else first["log_likelihood"],
        n_customers=first["n_customers"],
        converged=first["is_converged"],
        message=first["fit_message"],
    )


def margin_by_month(frequency, recency, age, expected_spend, margin_rate, bgnbd, months):
    """Undiscounted expected margin per month (n_customers x months), NULL rows where unknown."""
    try:
        purchases = bgnbd_expected_purchases_by_period(frequency, recency, age, bgnbd, month_end_weeks(months))
    except ModelNotFittedError:
        return pa.nulls(len(frequency), type=pa.large_list(pa.float64()))
    values = purchases * (expected_spend * margin_rate)[:, None]
    known = np.isfinite(values).all(axis=1)
    offsets = pa.array(np.arange(len(values) + 1, dtype=np.int64) * values.shape[1])
    return pa.LargeListArray.from_arrays(
        offsets, pa.array(values.ravel()), type=pa.large_list(pa.float64()), mask=pa.array(~known)
    )


def model(dbt, session):
    dbt.config(materialized="table")
    summary = dbt.ref("int_customers_rfm_summarised").to_arrow_table()
    settings = dbt.ref("int_analysis_settings").to_arrow_table().to_pylist()[0]
    parameters = dbt.ref("int_clv_models_fitted").to_arrow_table().to_pylist()

    bgnbd = stored_fit(parameters, "bg_nbd", BgNbdFit, ["r", "alpha", "a", "b"])
    gamma_gamma = stored_fit(parameters, "gamma_gamma", GammaGammaFit, ["p", "q", "v"])

    frequency = column(summary, "frequency")
    recency = column(summary, "recency_weeks")
    age = column(summary, "t_weeks")
    monetary = column(summary, "monetary_value")
    margin_rate = column(summary, "margin_rate")
    margin_rate = np.where(np.isfinite(margin_rate), margin_rate, settings["default_margin_rate"])

    prediction = predict_clv(
        frequency,
        recency,
        age,
        monetary,
        bgnbd,
        gamma_gamma,
        horizon_months=int(settings["clv_horizon_months"]),
        margin_rate=margin_rate,
        annual_discount_rate=float(settings["annual_discount_rate"]),
    )
    months = max(int(settings["clv_horizon_months"]), int(settings["crv_horizon_months"]))
    output = prediction.to_arrow(summary["customer_id"])
    output = output.append_column("margin_rate", pa.array(margin_rate, type=pa.float64()))
    return output.append_column(
        "expected_margin_by_month",
        margin_by_month(frequency, recency, age, prediction.expected_spend, margin_rate, bgnbd, months),
    )
