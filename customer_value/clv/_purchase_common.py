"""What the purchase models (BG/NBD, MBG/NBD, Pareto/NBD) share: the checks of an RFM
summary, the behaviour of their fit results, and the maximum-likelihood fit procedure.

Every purchase model is fitted the same way (:func:`fit_purchase_model`): invalid rows
excluded and counted, rows collapsed to sufficient statistics, time rescaled by
``max(T) / 10``, log-parameters optimised by L-BFGS-B with an analytic gradient (warm
start on a thinned copy and Newton steps for large data), standard errors from the
numerical Hessian, and ``converged=False`` plus a ``message`` instead of an exception
whenever the data cannot identify the model.  The models only supply their likelihood
(:class:`PurchaseLikelihood`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import numpy as np
from numpy.typing import ArrayLike

from ._common import (
    FitFields,
    FloatArray,
    OptimResult,
    as_float_array,
    check_identified,
    check_same_length,
    coerce_weights,
    log_space_standard_errors,
    minimize_log_params,
    numerical_hessian,
    optimise_log_params,
    vdot,
)

# --------------------------------------------------------------------------- input checks


def summary_validity(x: FloatArray, t_x: FloatArray, T: FloatArray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row validity of an RFM summary and a short reason for invalid rows.

    Valid: finite non-negative integer ``x``; finite ``T >= 0``; for ``x > 0`` a finite
    ``0 <= t_x <= T`` (a relative 1e-9 tolerance for rounding).  ``t_x`` of a one-time
    buyer is not used by the model and is ignored (it may be NULL/NaN).
    """
    with np.errstate(invalid="ignore"):
        bad_x = ~np.isfinite(x) | (x < 0) | (x != np.floor(x))
        bad_T = ~np.isfinite(T) | (T < 0)
        repeat = ~bad_x & (x > 0)
        bad_tx = repeat & (~np.isfinite(t_x) | (t_x < 0) | (t_x > T * (1 + 1e-9) + 1e-9))
    reasons = np.full(len(x), None, dtype=object)
    reasons[bad_tx] = "invalid input: recency missing, negative or greater than T"
    reasons[bad_T] = "invalid input: T missing or negative"
    reasons[bad_x] = "invalid input: frequency missing, negative or not an integer"
    return ~(bad_x | bad_T | bad_tx), reasons


def clean_recency(x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
    """Recency with one-time buyers set to 0 and rounding excess over T clipped."""
    return np.where(x > 0, np.minimum(t_x, T), 0.0)


def validated_summary(x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``(x, t_x, T)`` as float arrays with :func:`clean_recency` applied; ``ValueError``
    naming the first invalid row if any row is invalid (:func:`summary_validity`)."""
    xa = as_float_array(x, "frequency")
    ta = as_float_array(t_x, "recency")
    Ta = as_float_array(T, "T")
    n = check_same_length(frequency=xa, recency=ta, T=Ta)
    valid, reasons = summary_validity(xa, ta, Ta)
    if not valid.all():
        i = int(np.argmin(valid))
        raise ValueError(f"{int((~valid).sum())} of {n} rows are invalid, e.g. row {i}: {reasons[i]}")
    return xa, clean_recency(xa, ta, Ta), Ta


def validated_period_ends(period_ends_weeks: ArrayLike) -> FloatArray:
    ends = as_float_array(period_ends_weeks, "period_ends_weeks")
    if not np.all(np.isfinite(ends)) or np.any(ends < 0) or np.any(np.diff(ends) < 0):
        raise ValueError("period_ends_weeks must be finite, >= 0 and non-decreasing")
    return ends


def validated_horizon(t: ArrayLike, n: int) -> FloatArray:
    """Prediction horizons ``t`` (weeks) broadcast to ``n`` customers; finite and >= 0."""
    tt = np.broadcast_to(np.asarray(t, dtype=np.float64), (n,)).astype(np.float64)
    if not np.all(np.isfinite(tt)) or np.any(tt < 0):
        raise ValueError("t must be finite and >= 0")
    return tt


def validated_counts_and_times(x: ArrayLike, t: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """``x`` (non-negative integers) and ``t`` (finite, >= 0) broadcast together, for the
    unconditional P(X(t) = x)."""
    xa = np.asarray(x, dtype=np.float64)
    ta = np.asarray(t, dtype=np.float64)
    if not np.all(np.isfinite(xa)) or np.any(xa < 0) or np.any(xa != np.round(xa)):
        raise ValueError("x must be non-negative integers")
    if not np.all(np.isfinite(ta)) or np.any(ta < 0):
        raise ValueError("t must be finite and >= 0")
    xb, tb = np.broadcast_arrays(xa, ta)
    return xb, tb


def validated_ages(T: ArrayLike, max_frequency: int) -> FloatArray:
    if max_frequency < 1:
        raise ValueError("max_frequency must be at least 1")
    Ta = as_float_array(T, "T")
    if not np.all(np.isfinite(Ta)) or np.any(Ta < 0):
        raise ValueError("T must be finite and >= 0")
    return Ta


def repeat_purchase_histogram(
    T: ArrayLike,
    max_frequency: int,
    probability_of_purchases: Callable[[FloatArray, FloatArray], FloatArray],
) -> FloatArray:
    """Expected number of customers with 0, 1, ..., ``max_frequency - 1`` and
    ``max_frequency`` or more repeat purchases in their own period ``T``: the sum over
    customers of P(X(T_i) = x), evaluated once per distinct T.  ``probability_of_purchases``
    takes ``(x[None, :], t[:, None])``."""
    Ta = validated_ages(T, max_frequency)
    periods, customers = np.unique(Ta, return_counts=True)
    x = np.arange(max_frequency, dtype=np.float64)
    probabilities = probability_of_purchases(x[None, :], periods[:, None])
    below = customers @ probabilities
    return np.append(below, len(Ta) - below.sum())


# --------------------------------------------------------------------------- fit results


@dataclass(frozen=True, kw_only=True)
class PurchaseFitFields(FitFields):
    """A purchase model's fit result: :class:`FitFields` (whose ``log_likelihood`` is the
    total in weeks) and the number of distinct (x, t_x, T) rows.  The model's subclass
    declares its parameters (positional, first), ``PARAM_NAMES`` and ``MODEL_LABEL``."""

    #: distinct (x, t_x, T) combinations the likelihood was evaluated on
    n_distinct: int = 0


# --------------------------------------------------------------------------- the fit


class LikelihoodData(Protocol):
    """Sufficient statistics of a summary, as a model's likelihood wants them."""

    @property
    def total_weight(self) -> float: ...

    @property
    def n_rows(self) -> int:
        """Rows the likelihood is evaluated on (decides the warm start on thinned data)."""
        ...

    def scaled(self, s: float) -> Any:
        """The same data with time divided by ``s``."""
        ...


_Data = TypeVar("_Data", bound=LikelihoodData)
_Fit = TypeVar("_Fit")


@dataclass(frozen=True)
class PurchaseLikelihood(Generic[_Data]):
    """What :func:`fit_purchase_model` needs to know about a purchase model."""

    #: e.g. "BG/NBD", used in messages
    label: str
    #: parameter names in the order of the log-parameter vector
    names: tuple[str, ...]
    #: True for parameters measured in time units (rescaled with time), e.g. alpha
    time_params: tuple[bool, ...]
    #: ``(x, t_x, T, weights or None) -> (data, number of distinct rows)``
    statistics: Callable[[FloatArray, FloatArray, FloatArray, FloatArray | None], tuple[_Data, int]]
    #: ``(log-parameters, data) -> (total weighted log-likelihood, gradient)``
    loglik_and_grad: Callable[[FloatArray, _Data], tuple[float, FloatArray]]
    #: ``rate -> (first start, further starts)`` in log-parameters on the rescaled time
    #: axis, from the mean purchase rate per (rescaled) time unit
    starts: Callable[[float], tuple[FloatArray, list[FloatArray]]]


def fit_purchase_model(
    model: PurchaseLikelihood[Any],
    make_fit: Callable[..., _Fit],
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None,
    *,
    penalizer: float,
    min_customers: int,
    warm_start_rows: int,
) -> _Fit:
    """Maximum-likelihood fit of ``model``; ``make_fit(**fields)`` builds the result.

    See :func:`customer_value.clv.fit_bgnbd` for the procedure and the guarantees (the
    same for every purchase model).  With more than ``4 * warm_start_rows`` rows of
    sufficient statistics the optimiser first runs on every k-th customer
    (~``warm_start_rows`` rows) and the full data get a few Newton steps.
    """
    names = model.names
    x = as_float_array(frequency, "frequency")
    t_x = as_float_array(recency, "recency")
    Ta = as_float_array(T, "T")
    n = check_same_length(frequency=x, recency=t_x, T=Ta)
    w = coerce_weights(weights, n)
    valid, _ = summary_validity(x, t_x, Ta)
    valid &= np.isfinite(w) & (w > 0)
    n_excluded = int(n - valid.sum())
    if n_excluded:
        x, t_x, Ta, w = x[valid], t_x[valid], Ta[valid], w[valid]
    t_x = clean_recency(x, t_x, Ta)
    total_weight = float(w.sum())
    info: dict[str, Any] = {
        "n_customers": len(x),
        "total_weight": total_weight,
        "n_excluded": n_excluded,
        "penalizer": penalizer,
    }
    excluded_note = f" ({n_excluded} invalid rows excluded)" if n_excluded else ""

    def not_fitted(message: str) -> _Fit:
        nan = float("nan")
        return make_fit(**dict.fromkeys(names, nan), log_likelihood=nan, converged=False, message=message, **info)

    if len(x) == 0:
        return not_fitted("no valid customers" + excluded_note)
    if total_weight < min_customers:
        return not_fitted(
            f"too few customers to fit {model.label}: {total_weight:g} < minimum {min_customers}" + excluded_note
        )
    if not np.any(x > 0):
        return not_fitted(
            "nobody made a repeat purchase (all frequency = 0): the purchase and dropout rates "
            "are not identifiable" + excluded_note
        )
    if float(Ta.max()) <= 0:
        return not_fitted("all customers have T = 0: no observation time" + excluded_note)

    data, info["n_distinct"] = model.statistics(x, t_x, Ta, None if weights is None else w)
    scale = float(Ta.max()) / 10.0
    sd = data.scaled(scale)
    W = data.total_weight

    def penalty(theta: FloatArray) -> tuple[float, FloatArray]:
        params = np.exp(theta)
        return penalizer * float(params @ params), 2.0 * penalizer * params * params

    def make_objective(d: Any) -> Callable[[FloatArray], tuple[float, FloatArray]]:
        def objective(theta: FloatArray) -> tuple[float, FloatArray]:
            ll, g = model.loglik_and_grad(theta, d)
            pen, pen_g = penalty(theta)
            return -ll / W + pen, -g / W + pen_g

        return objective

    objective = make_objective(sd)
    rate = vdot(w, x) / max(vdot(w, Ta / scale), 1e-12)
    first_start, extra_starts = model.starts(rate)
    # large data: optimise on a thinned copy (~warm_start_rows rows) first, then polish
    # on the full data with Newton steps
    warm_objective = None
    if sd.n_rows > 4 * warm_start_rows:
        step = sd.n_rows // warm_start_rows  # every step-th customer, step times the weight
        thin, _ = model.statistics(x[::step], t_x[::step], Ta[::step], w[::step] * step)
        warm_objective = make_objective(thin.scaled(scale))

    def check(opt: OptimResult) -> tuple[FloatArray | None, str]:
        # Hessian of the total log-likelihood in log-parameters (scale-free): standard
        # errors, and the identification check (positive definite, finite SEs)
        neg_grad = lambda th: -model.loglik_and_grad(th, sd)[1]
        hess = numerical_hessian(neg_grad, opt.x, grad_at_x=W * (opt.grad - penalty(opt.x)[1]))
        cov, cov_reason = log_space_standard_errors(hess)
        return cov, check_identified(opt.x, names, opt, cov, cov_reason)

    opt = optimise_log_params(objective, first_start, warm_objective)
    cov, problem = check(opt)
    if problem:
        opt2 = minimize_log_params(objective, extra_starts)
        cov2, problem2 = check(opt2)
        if not problem2 or opt2.fun < opt.fun - 1e-12:
            opt, cov, problem = opt2, cov2, problem2

    time_scale = np.where(model.time_params, scale, 1.0)
    estimates = np.exp(opt.x) * time_scale
    info["iterations"] = opt.iterations
    if problem:
        last = ", ".join(f"{name}={value:.4g}" for name, value in zip(names, estimates))
        return not_fitted(problem + f"; last estimate {last}" + excluded_note)
    # back to weeks: rescaling time by s multiplies the density of x purchase times by s^x:
    # l(x, t_x/s, T/s; time parameters/s) = l(x, t_x, T; time parameters) + x log s
    ll = -W * (opt.fun - penalty(opt.x)[0]) - np.log(scale) * vdot(w, x)
    assert cov is not None
    se_log = np.sqrt(np.diag(cov))
    values = {name: float(v) for name, v in zip(names, estimates)}
    return make_fit(
        **values,
        log_likelihood=float(ll),
        converged=True,
        message="converged" + excluded_note,
        standard_errors={name: float(v) for name, v in zip(names, estimates * se_log)},
        log_covariance=tuple(tuple(float(v) for v in row) for row in cov),
        **info,
    )


# --------------------------------------------------------------------------- predictions


def purchases_by_period(
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    fit: PurchaseFitFields,
    period_ends_weeks: ArrayLike,
    probability_alive_raw: Callable[..., FloatArray],
    cumulative_if_alive_by_pair: Callable[..., tuple[np.ndarray, FloatArray]],
) -> FloatArray:
    """Expected purchases per period, ``(n_customers, n_periods)``, for any purchase model
    whose conditional expectation is P(alive | x, t_x, T) times a cumulative expectation
    given alive that depends on (x, T) only (true of BG/NBD, MBG/NBD and Pareto/NBD).

    ``probability_alive_raw(x, t_x, T, *params)`` and ``cumulative_if_alive_by_pair(x, T,
    ends, params)`` (returning ``(pair index per row, matrix[n_pairs, n_periods])``) are
    the model's.  Column k is E[purchases in (T + end[k-1], T + end[k]]] with end[-1] = 0.
    Raises :class:`ModelNotFittedError` for a fit that did not converge."""
    params = fit.require_fitted()
    xa, ta, Ta = validated_summary(x, t_x, T)
    ends = validated_period_ends(period_ends_weeks)
    if len(ends) == 0 or len(xa) == 0:
        return np.zeros((len(xa), len(ends)))
    inverse, cum = cumulative_if_alive_by_pair(xa, Ta, ends, params)
    inc = np.diff(cum, axis=1, prepend=0.0)
    return probability_alive_raw(xa, ta, Ta, *params)[:, None] * inc[inverse]
