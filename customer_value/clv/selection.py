"""Which purchase model predicts this customer base best: the data choose.

BG/NBD, MBG/NBD and Pareto/NBD tell different stories of how customers stop buying, and
which story fits depends on the business. Each is fitted on a calibration period (the
history up to ``calibration_ends_on``, ``clv_holdout_months`` before ``as_of_date``) and
asked how many purchase days each customer makes in the holdout that follows; Gamma-Gamma,
fitted on the same calibration period, turns purchases into revenue. Against what the
customers actually did, per model:

* purchases: the root mean square error per customer (``purchases_rmse``), the mean
  absolute error (``purchases_mae``) and the error of the total (``purchases_error_share``);
* value: the same for the holdout's net revenue (``revenue_rmse``, ``revenue_mae``,
  ``revenue_error_share``).

The models predict each customer's expected purchases and revenue, and the squared error
is the loss whose best prediction is the expectation: the mean absolute error rewards
predicting the median, which for customers who mostly buy nothing is 0, so it would
favour whichever model predicts least. ``selection_score`` is each root mean square error
relative to the best model's, summed over purchases and revenue (2.0 for a model best at
both). Holdout errors are noisy: on a few thousand customers, or with one year to
calibrate on, two models' errors can differ by less than chance. So a model whose
per-customer squared errors exceed the lowest scorer's by less than ``noise_z`` standard
errors of the paired difference, on purchases and on revenue (``purchases_excess_z``,
``revenue_excess_z``), is as good on the holdout (``is_within_noise``); among those, the
one that explains the whole history best (the highest log-likelihood of the fit the
predictions use: the three have four parameters each) predicts. Only models that
converged both on the calibration period and on the whole history take part. A var
(``clv_purchase_model``) can name a model instead. Without a usable holdout (too few
customers before ``calibration_ends_on``, nobody repeating there) the comparison says why
and BG/NBD, the project's reference model, is used if it converged.

The result is ``marts.clv_model_comparison`` (one row per model) and, from its list
column, ``marts.clv_holdout_by_frequency`` (mean holdout purchases by calibration
frequency, actual and per model: the check lifetimes and PyMC-Marketing users know as
"calibration vs holdout purchases").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ._common import FloatArray, ModelNotFittedError
from .gamma_gamma import GammaGammaFit, fit_gamma_gamma, gamma_gamma_expected_spend
from .purchase_models import PURCHASE_MODELS, PurchaseFit

#: The model used when the data cannot choose (no usable holdout).
REFERENCE_MODEL = "bg_nbd"
#: Calibration frequencies up to this are shown one by one; the last group is "this or more".
MAX_FREQUENCY_SHOWN = 7

#: Mean holdout purchases per calibration frequency group, actual and predicted.
BY_FREQUENCY_FIELDS = [
    ("calibration_frequency", pa.int64()),
    ("is_last_group", pa.bool_()),
    ("customers", pa.int64()),
    ("actual_mean_holdout_purchases", pa.float64()),
    ("predicted_mean_holdout_purchases", pa.float64()),
]

COMPARISON_SCHEMA = pa.schema(
    [
        ("model_name", pa.string()),
        ("model_label", pa.string()),
        ("is_chosen", pa.bool_()),
        ("selection_reason", pa.string()),
        ("as_of_date", pa.date32()),
        ("calibration_ends_on", pa.date32()),
        ("holdout_weeks", pa.float64()),
        ("calibration_customers", pa.int64()),
        ("is_converged", pa.bool_()),
        ("fit_message", pa.string()),
        ("calibration_log_likelihood", pa.float64()),
        ("history_log_likelihood", pa.float64()),
        ("actual_holdout_purchases", pa.float64()),
        ("predicted_holdout_purchases", pa.float64()),
        ("purchases_error_share", pa.float64()),
        ("purchases_mae", pa.float64()),
        ("purchases_rmse", pa.float64()),
        ("actual_holdout_revenue", pa.float64()),
        ("predicted_holdout_revenue", pa.float64()),
        ("revenue_error_share", pa.float64()),
        ("revenue_mae", pa.float64()),
        ("revenue_rmse", pa.float64()),
        ("selection_score", pa.float64()),
        ("purchases_excess_z", pa.float64()),
        ("revenue_excess_z", pa.float64()),
        ("is_within_noise", pa.bool_()),
        ("holdout_by_frequency", pa.list_(pa.struct(BY_FREQUENCY_FIELDS))),
    ]
)


@dataclass(frozen=True)
class HoldoutData:
    """Per customer who bought by the end of the calibration period: the calibration
    summary (weeks) and what they did in the holdout (``holdout_weeks`` long)."""

    frequency: FloatArray
    recency: FloatArray
    T: FloatArray
    monetary: FloatArray
    holdout_purchases: FloatArray
    holdout_revenue: FloatArray
    holdout_weeks: float

    def __len__(self) -> int:
        return len(self.frequency)

    @classmethod
    def from_arrow(cls, table: pa.Table, as_of_date: dt.date, calibration_ends_on: dt.date) -> HoldoutData:
        """From the columns of int_customers_holdout_summarised (customer_id, frequency,
        recency_weeks, t_weeks, monetary_value, holdout_purchase_day_count,
        holdout_net_revenue); the holdout runs from the day after calibration_ends_on to
        as_of_date."""

        def column(name: str) -> FloatArray:
            return table[name].to_numpy(zero_copy_only=False).astype("float64")

        return cls(
            frequency=column("frequency"),
            recency=column("recency_weeks"),
            T=column("t_weeks"),
            monetary=column("monetary_value"),
            holdout_purchases=column("holdout_purchase_day_count"),
            holdout_revenue=column("holdout_net_revenue"),
            holdout_weeks=(as_of_date - calibration_ends_on).days / 7.0,
        )


@dataclass(frozen=True)
class ModelResult:
    """One purchase model on the holdout."""

    name: str
    fit: PurchaseFit
    predicted_purchases: FloatArray | None  # None when the model could not be fitted
    predicted_revenue: FloatArray | None  # None also when Gamma-Gamma could not be


def _spend(data: HoldoutData, min_customers: int) -> tuple[GammaGammaFit, FloatArray | None]:
    """Gamma-Gamma on the calibration period and each customer's expected spend per purchase day."""
    repeat = data.frequency > 0
    fit = fit_gamma_gamma(data.frequency, data.monetary, min_customers=min_customers)
    if not fit.converged:
        return fit, None
    monetary = np.where(repeat, np.nan_to_num(data.monetary, nan=0.0), np.nan)
    return fit, gamma_gamma_expected_spend(data.frequency, monetary, fit)


def evaluate_models(data: HoldoutData, *, min_customers: int) -> tuple[list[ModelResult], GammaGammaFit]:
    """Fit every purchase model (and Gamma-Gamma) on the calibration summary and predict
    each customer's holdout purchases and revenue."""
    gg_fit, spend = _spend(data, min_customers)
    results = []
    for name, model in PURCHASE_MODELS.items():
        fit = model.fit(data.frequency, data.recency, data.T, min_customers=min_customers)
        try:
            purchases = model.expected_purchases(data.holdout_weeks, data.frequency, data.recency, data.T, fit)
        except ModelNotFittedError:
            results.append(ModelResult(name, fit, None, None))
            continue
        revenue = None if spend is None else purchases * spend
        results.append(ModelResult(name, fit, purchases, revenue))
    return results, gg_fit


def _errors(predicted: FloatArray | None, actual: FloatArray) -> dict[str, float | None]:
    if predicted is None or len(actual) == 0:
        return {"predicted": None, "error_share": None, "mae": None, "rmse": None}
    total_actual, total_predicted = float(actual.sum()), float(predicted.sum())
    residual = predicted - actual
    return {
        "predicted": total_predicted,
        "error_share": (total_predicted - total_actual) / total_actual if total_actual else None,
        "mae": float(np.abs(residual).mean()),
        "rmse": float(np.sqrt((residual * residual).mean())),
    }


def excess_z(errors: FloatArray, best_errors: FloatArray) -> float:
    """How many standard errors a model's mean squared error per customer lies above the
    best model's, from the paired per-customer differences of the squared errors (0 when
    they are identical)."""
    difference = errors * errors - best_errors * best_errors
    mean = float(difference.mean())
    spread = float(difference.std(ddof=1)) / np.sqrt(len(difference)) if len(difference) > 1 else 0.0
    if spread == 0.0:
        return 0.0 if mean == 0.0 else float(np.copysign(np.inf, mean))
    return mean / spread


def choose_model(
    scores: dict[str, float | None],
    within_noise: dict[str, bool],
    log_likelihoods: dict[str, float | None],
    full_converged: dict[str, bool],
    requested: str,
    problem: str | None,
) -> tuple[str, str]:
    """The model the predictions use and why: the var's; or, among the models converged on
    both fits whose holdout errors are within noise of the lowest selection score's, the
    highest log-likelihood on the whole history (``log_likelihoods``); or the reference
    model when the data cannot choose."""
    if requested != "auto":
        if full_converged.get(requested):
            return requested, f"named by var clv_purchase_model = {requested}"
        return (
            requested,
            f"named by var clv_purchase_model = {requested}, but not fitted on the history up to as_of_date",
        )
    eligible = {name: score for name, score in scores.items() if score is not None and full_converged.get(name)}
    if eligible:
        order = list(PURCHASE_MODELS)
        best = min(eligible, key=lambda name: (eligible[name], order.index(name)))
        tied = [name for name in eligible if within_noise.get(name)]
        if len(tied) == 1:
            return best, "lowest holdout error (selection_score), the others' clearly higher"
        chosen = max(tied, key=lambda name: (log_likelihoods.get(name) or -np.inf, -order.index(name)))
        others = ", ".join(PURCHASE_MODELS[name].label for name in tied if name != chosen)
        return chosen, (
            f"holdout errors within noise of the lowest (with {others}); "
            "the highest log-likelihood on the whole history"
        )
    why = problem or "no model could be fitted on both the calibration period and the whole history"
    for name in (REFERENCE_MODEL, *PURCHASE_MODELS):
        if full_converged.get(name):
            return name, f"the data cannot choose ({why}): {PURCHASE_MODELS[name].label}, the reference model"
    return REFERENCE_MODEL, f"the data cannot choose ({why}), and no model could be fitted: predictions are NULL"


def comparison_table(
    data: HoldoutData,
    *,
    full_converged: dict[str, bool],
    full_log_likelihoods: dict[str, float | None] | None = None,
    requested: str,
    min_customers: int,
    as_of_date: dt.date,
    calibration_ends_on: dt.date,
    noise_z: float = 2.0,
) -> pa.Table:
    """One row per purchase model: its fit on the calibration period, its errors on the
    holdout, whether it is the one the predictions use and why, and (list column
    ``holdout_by_frequency``) its mean holdout purchases per calibration frequency next to
    the actual ones."""
    results, _ = evaluate_models(data, min_customers=min_customers)
    problem = None
    if len(data) < min_customers:
        problem = (
            f"{len(data)} customers bought by {calibration_ends_on}, fewer than clv_min_customers = {min_customers}"
        )
    elif not np.any(data.frequency > 0):
        problem = f"nobody made a repeat purchase by {calibration_ends_on}"

    errors = {
        r.name: (
            _errors(r.predicted_purchases, data.holdout_purchases),
            _errors(r.predicted_revenue, data.holdout_revenue),
        )
        for r in results
    }
    scores: dict[str, float | None] = {name: None for name in PURCHASE_MODELS}
    if problem is None:
        fitted = {name: e for name, e in errors.items() if e[0]["rmse"] is not None and full_converged.get(name)}
        for part in (0, 1):
            rmses = {name: e[part]["rmse"] for name, e in fitted.items()}
            lowest = min((rmse for rmse in rmses.values() if rmse is not None), default=None)
            for name, rmse in rmses.items():
                if lowest and rmse is not None:
                    scores[name] = (scores[name] or 0.0) + rmse / lowest
    by_name = {r.name: r for r in results}
    z_scores: dict[str, tuple[float | None, float | None]] = {name: (None, None) for name in PURCHASE_MODELS}
    within_noise: dict[str, bool] = {}
    compared = {name: score for name, score in scores.items() if score is not None}
    if compared:
        best = min(compared, key=lambda name: (compared[name], list(PURCHASE_MODELS).index(name)))
        best_result = by_name[best]
        for name in compared:
            result = by_name[name]
            # a model with a score was fitted on the calibration period and predicted
            assert result.predicted_purchases is not None and best_result.predicted_purchases is not None
            z_purchases = excess_z(
                result.predicted_purchases - data.holdout_purchases,
                best_result.predicted_purchases - data.holdout_purchases,
            )
            z_revenue = None
            if result.predicted_revenue is not None and best_result.predicted_revenue is not None:
                z_revenue = excess_z(
                    result.predicted_revenue - data.holdout_revenue,
                    best_result.predicted_revenue - data.holdout_revenue,
                )
            z_scores[name] = (z_purchases, z_revenue)
            within_noise[name] = z_purchases < noise_z and (z_revenue is None or z_revenue < noise_z)
    history_log_likelihoods = full_log_likelihoods or {}
    chosen, reason = choose_model(scores, within_noise, history_log_likelihoods, full_converged, requested, problem)

    rows = []
    for name, model in PURCHASE_MODELS.items():
        model_result = by_name.get(name)
        purchase_errors, revenue_errors = errors.get(name, (_errors(None, data.holdout_purchases),) * 2)
        fit = model_result.fit if model_result else None
        converged = bool(fit is not None and fit.converged)
        if name == chosen:
            why = reason
        elif fit is None:
            why = f"not compared: {problem}"
        elif not converged:
            why = f"not fitted on the calibration period: {fit.message}"
        elif not full_converged.get(name):
            why = "not fitted on the history up to as_of_date"
        elif requested != "auto":
            why = "not named by var clv_purchase_model"
        elif within_noise.get(name):
            why = "holdout errors within noise of the lowest, lower log-likelihood on the whole history"
        else:
            why = "holdout error clearly higher than the lowest"
        rows.append(
            {
                "model_name": name,
                "model_label": model.label,
                "is_chosen": name == chosen,
                "selection_reason": why,
                "as_of_date": as_of_date,
                "calibration_ends_on": calibration_ends_on,
                "holdout_weeks": float(data.holdout_weeks),
                "calibration_customers": len(data),
                "is_converged": converged,
                "fit_message": None if fit is None else fit.message,
                "calibration_log_likelihood": float(fit.log_likelihood) if fit is not None and converged else None,
                "history_log_likelihood": history_log_likelihoods.get(name),
                "actual_holdout_purchases": float(data.holdout_purchases.sum()),
                "predicted_holdout_purchases": purchase_errors["predicted"],
                "purchases_error_share": purchase_errors["error_share"],
                "purchases_mae": purchase_errors["mae"],
                "purchases_rmse": purchase_errors["rmse"],
                "actual_holdout_revenue": float(data.holdout_revenue.sum()),
                "predicted_holdout_revenue": revenue_errors["predicted"],
                "revenue_error_share": revenue_errors["error_share"],
                "revenue_mae": revenue_errors["mae"],
                "revenue_rmse": revenue_errors["rmse"],
                "selection_score": scores[name],
                "purchases_excess_z": z_scores[name][0],
                "revenue_excess_z": z_scores[name][1],
                "is_within_noise": within_noise.get(name),
                "holdout_by_frequency": by_frequency(
                    data, None if model_result is None else model_result.predicted_purchases
                ),
            }
        )
    return pa.Table.from_pylist(rows, schema=COMPARISON_SCHEMA)


def by_frequency(data: HoldoutData, predicted: FloatArray | None) -> list[dict] | None:
    """Mean holdout purchases by calibration frequency (0, 1, ..., MAX_FREQUENCY_SHOWN or
    more), actual and predicted; None for a model that made no prediction."""
    if predicted is None:
        return None
    group = np.minimum(data.frequency, MAX_FREQUENCY_SHOWN).astype(np.int64)
    size = MAX_FREQUENCY_SHOWN + 1
    customers = np.bincount(group, minlength=size)
    actual = np.bincount(group, weights=data.holdout_purchases, minlength=size)
    expected = np.bincount(group, weights=predicted, minlength=size)
    return [
        {
            "calibration_frequency": int(g),
            "is_last_group": int(g) == MAX_FREQUENCY_SHOWN,
            "customers": int(customers[g]),
            "actual_mean_holdout_purchases": float(actual[g] / customers[g]),
            "predicted_mean_holdout_purchases": float(expected[g] / customers[g]),
        }
        for g in np.flatnonzero(customers)
    ]
