"""Arrow in and out of the dbt Python models: the conversions they share.

The dbt models ``int_clv_models_fitted`` and ``int_customers_clv_predicted`` stay thin:
they read Arrow tables, call this module and the fitting functions, and return Arrow.
Fitted models travel between them as rows of (model_name, parameter_name, value, ...).
Every function here takes a fit of any purchase model (BG/NBD, MBG/NBD, Pareto/NBD:
:data:`customer_value.clv.PURCHASE_MODELS`) with the Gamma-Gamma spend model.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from ._common import FloatArray, ModelNotFittedError
from .gamma_gamma import GammaGammaFit
from .intervals import clv_intervals, discount_ratio, probability_alive_function
from .predict import WEEKS_PER_MONTH, ClvPrediction, month_end_weeks, predict_clv
from .purchase_models import PURCHASE_MODELS, PurchaseFit, purchase_model_of

#: Each model's name in the parameter rows, its fit class and its parameters in order:
#: the purchase models (PURCHASE_MODELS) and the Gamma-Gamma spend model.
MODELS: dict[str, tuple[type, tuple[str, ...]]] = {
    **{name: (model.fit_class, model.param_names) for name, model in PURCHASE_MODELS.items()},
    "gamma_gamma": (GammaGammaFit, ("p", "q", "v")),
}

#: A fit of any model in MODELS.
Fit = PurchaseFit | GammaGammaFit

PARAMETER_SCHEMA = pa.schema(
    [
        ("model_name", pa.string()),
        ("parameter_name", pa.string()),
        ("parameter_value", pa.float64()),
        ("standard_error", pa.float64()),
        ("log_likelihood", pa.float64()),
        ("n_customers", pa.int64()),
        ("as_of_date", pa.date32()),
        ("is_converged", pa.bool_()),
        ("fit_message", pa.string()),
        # this parameter's row of the fit's log-parameter covariance (fit.log_covariance),
        # which the CLV intervals draw parameter uncertainty from; NULL when not converged
        ("log_covariance", pa.list_(pa.float64())),
    ]
)


def numeric_column(table: pa.Table, name: str) -> FloatArray:
    """A numeric column as float64, NULL as NaN."""
    return table[name].to_numpy(zero_copy_only=False).astype("float64")


def parameter_table(fits: dict[str, Fit], as_of_date: dt.date) -> pa.Table:
    """One row per model and parameter; values NULL when the model did not converge."""
    rows = []
    for model_name, fit in fits.items():
        errors = fit.standard_errors or {}
        covariance = fit.log_covariance if fit.converged else None
        for i, name in enumerate(MODELS[model_name][1]):
            rows.append(
                {
                    "model_name": model_name,
                    "parameter_name": name,
                    "parameter_value": float(getattr(fit, name)) if fit.converged else None,
                    "standard_error": errors.get(name) if fit.converged else None,
                    "log_likelihood": float(fit.log_likelihood) if fit.converged else None,
                    "n_customers": int(fit.n_customers),
                    "as_of_date": as_of_date,
                    "is_converged": bool(fit.converged),
                    "fit_message": fit.message,
                    "log_covariance": None if covariance is None else list(covariance[i]),
                }
            )
    return pa.Table.from_pylist(rows, schema=PARAMETER_SCHEMA)


def fit_from_table(parameters: pa.Table, model_name: str) -> Fit:
    """Rebuild a fit object from its rows of :func:`parameter_table`."""
    fit_class, names = MODELS[model_name]
    rows = {row["parameter_name"]: row for row in parameters.to_pylist() if row["model_name"] == model_name}
    first = rows[names[0]]
    covariance = [rows[name].get("log_covariance") for name in names]
    return fit_class(
        **{name: np.nan if rows[name]["parameter_value"] is None else rows[name]["parameter_value"] for name in names},
        log_likelihood=np.nan if first["log_likelihood"] is None else first["log_likelihood"],
        n_customers=first["n_customers"],
        converged=first["is_converged"],
        message=first["fit_message"],
        log_covariance=None if any(row is None for row in covariance) else tuple(tuple(row) for row in covariance),
    )


def margin_by_month_array(
    frequency: FloatArray,
    recency: FloatArray,
    age: FloatArray,
    expected_spend: FloatArray,
    margin_rate: FloatArray,
    purchase_fit: PurchaseFit,
    months: int,
    chunk_rows: int = 250_000,
) -> pa.ChunkedArray:
    """Undiscounted expected margin of each of the next ``months`` months per customer,
    as an Arrow list column (NULL where a value is unknown or the model is not fitted).
    Computed ``chunk_rows`` customers at a time: the customers x months matrices of ten
    million customers would otherwise take gigabytes."""
    list_type = pa.large_list(pa.float64())
    by_period = purchase_model_of(purchase_fit).expected_purchases_by_period
    ends = month_end_weeks(months)
    chunks = []
    for start in range(0, len(frequency), chunk_rows):
        rows = slice(start, min(start + chunk_rows, len(frequency)))
        try:
            purchases = by_period(frequency[rows], recency[rows], age[rows], purchase_fit, ends)
        except ModelNotFittedError:
            return pa.chunked_array([pa.nulls(len(frequency), type=list_type)], type=list_type)
        values = purchases * (expected_spend[rows] * margin_rate[rows])[:, None]
        known = np.isfinite(values).all(axis=1)
        offsets = pa.array(np.arange(len(values) + 1, dtype=np.int64) * values.shape[1])
        chunks.append(
            pa.LargeListArray.from_arrays(offsets, pa.array(values.ravel()), type=list_type, mask=pa.array(~known))
        )
    return pa.chunked_array(chunks, type=list_type)


def interval_arrays(
    prediction: ClvPrediction,
    frequency: FloatArray,
    recency: FloatArray,
    age: FloatArray,
    monetary_value: FloatArray,
    margin_rate: FloatArray,
    purchase_fit: PurchaseFit,
    gamma_gamma: GammaGammaFit,
    level: float,
) -> tuple[FloatArray, FloatArray]:
    """Each customer's ``level`` prediction interval of the value over the CLV horizon
    (:func:`customer_value.clv.clv_intervals`): purchases under the purchase model, spend
    under Gamma-Gamma, both fits' parameter uncertainty, discounted like predicted CLV
    (:func:`customer_value.clv.intervals.discount_ratio`). NaN where the CLV is not predicted."""
    n = len(frequency)
    if not (purchase_fit.converged and gamma_gamma.converged) or n == 0:
        return np.full(n, np.nan), np.full(n, np.nan)
    model = purchase_model_of(purchase_fit)
    ratio = discount_ratio(
        prediction.predicted_clv, prediction.expected_purchases, prediction.expected_spend, margin_rate
    )
    return clv_intervals(
        model.name,
        model.params_of(purchase_fit),
        purchase_fit.log_covariance,
        (gamma_gamma.p, gamma_gamma.q, gamma_gamma.v),
        gamma_gamma.log_covariance,
        frequency,
        age,
        monetary_value,
        probability_alive_function(model.name, frequency, recency, age),
        margin_rate,
        ratio,
        prediction.horizon_months * WEEKS_PER_MONTH,
        level,
    )


def prediction_batches(
    summary: pa.Table,
    purchase_fit: PurchaseFit,
    gamma_gamma: GammaGammaFit,
    *,
    horizon_months: int,
    annual_discount_rate: float,
    list_months: int,
    interval_level: float = 0.8,
    chunk_rows: int = 500_000,
) -> pa.RecordBatchReader:
    """Per customer of ``summary`` (customer_id, frequency, recency_weeks, t_weeks,
    monetary_value, margin_rate): :func:`predict_clv`'s columns, the ``interval_level``
    prediction interval of the CLV (predicted_clv_low, predicted_clv_high:
    :func:`interval_arrays`), margin_rate, and expected_margin_by_month over
    ``list_months`` months (:func:`margin_by_month_array`).

    Computed ``chunk_rows`` customers at a time and streamed as Arrow record batches: ten
    million customers' predictions and month lists would otherwise sit in memory at once.
    Give ``summary`` in a fixed order (e.g. sorted by customer) for results that do not
    depend on it: numpy's vectorised sums can round differently for another mix of rows.
    """
    frequency, recency, age = (numeric_column(summary, name) for name in ("frequency", "recency_weeks", "t_weeks"))
    monetary_value = numeric_column(summary, "monetary_value")
    margin_rate = numeric_column(summary, "margin_rate")

    def predicted(rows: slice) -> pa.Table:
        prediction = predict_clv(
            frequency[rows],
            recency[rows],
            age[rows],
            monetary_value[rows],
            purchase_fit,
            gamma_gamma,
            horizon_months=horizon_months,
            margin_rate=margin_rate[rows],
            annual_discount_rate=annual_discount_rate,
        )
        output = prediction.to_arrow(summary["customer_id"][rows])
        low, high = interval_arrays(
            prediction,
            frequency[rows],
            recency[rows],
            age[rows],
            monetary_value[rows],
            margin_rate[rows],
            purchase_fit,
            gamma_gamma,
            interval_level,
        )
        for name, bound in (("predicted_clv_low", low), ("predicted_clv_high", high)):
            output = output.append_column(name, pa.array(bound, type=pa.float64(), mask=~np.isfinite(bound)))
        output = output.append_column("margin_rate", pa.array(margin_rate[rows], type=pa.float64()))
        return output.append_column(
            "expected_margin_by_month",
            margin_by_month_array(
                frequency[rows],
                recency[rows],
                age[rows],
                prediction.expected_spend,
                margin_rate[rows],
                purchase_fit,
                list_months,
            ),
        )

    first = predicted(slice(0, chunk_rows))

    def batches():
        yield from first.to_batches()
        for start in range(chunk_rows, summary.num_rows, chunk_rows):
            yield from predicted(slice(start, start + chunk_rows)).to_batches()

    return pa.RecordBatchReader.from_batches(first.schema, batches())
