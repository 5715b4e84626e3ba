"""MBG/NBD model: Batislam, Denizel & Filiztekin (2007), "Empirical validation and
comparison of models for customer base analysis", International Journal of Research in
Marketing 24(3), 201-209 (the same model as Hoppe & Wagner's 2007 "central variant" of
the BG/NBD; conditional expectation as corrected in Wagner & Hoppe 2008, "Erratum on the
MBG/NBD model", IJRM 25(3), 225-226).

The BG/NBD (:mod:`customer_value.clv.bgnbd`) with one more dropout opportunity: a
customer can also drop out right after the *first* purchase, so a one-time buyer who has
been silent for long is not "certainly alive".  While active a customer buys at Poisson
rate ``lambda ~ Gamma(r, alpha)`` (alpha in weeks); right after the first purchase and
after every repeat purchase they drop out with probability ``p ~ Beta(a, b)``.

A customer with x repeat purchases survived x + 1 opportunities or dropped at the last
one, so the likelihood is the BG/NBD's with B(a, b+x+1) for B(a, b+x) and the second
term for every x (t_x = 0 when x = 0)::

    L = B(a, b+x+1)/B(a, b) * Gamma(r+x) alpha^r / Gamma(r)
        * [ (alpha+T)^-(r+x) + a/(b+x) * (alpha+t_x)^-(r+x) ]

Given alive at T the posterior of p is Beta(a, b+x+1): the BG/NBD's with b+1, so the
conditional expectation given alive is the BG/NBD's at b+1 (Wagner & Hoppe's erratum),
and P(alive) = 1 / (1 + a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x)) for every x.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import expit

from . import bgnbd
from ._common import MIN_CUSTOMERS, FloatArray, blas_single_threaded, coerce_weights
from ._purchase_common import (
    PurchaseFitFields,
    PurchaseLikelihood,
    fit_purchase_model,
    purchases_by_period,
    repeat_purchase_histogram,
    validated_counts_and_times,
    validated_horizon,
    validated_summary,
)

_PARAM_NAMES = ("r", "alpha", "a", "b")
_WARM_START_ROWS = 50_000


@dataclass(frozen=True)
class MbgNbdFit(PurchaseFitFields):
    """Result of :func:`fit_mbgnbd`; the same fields and guarantees as
    :class:`customer_value.clv.BgNbdFit` (NaN parameters, ``converged=False`` and the
    reason in ``message`` when not fitted; ``log_likelihood`` the total in weeks)."""

    r: float
    alpha: float
    a: float
    b: float

    PARAM_NAMES: ClassVar[tuple[str, ...]] = _PARAM_NAMES
    MODEL_LABEL: ClassVar[str] = "MBG/NBD"


def _statistics(
    x: FloatArray, t_x: FloatArray, T: FloatArray, w: FloatArray | None
) -> tuple[bgnbd._LikelihoodData, int]:
    return bgnbd._sufficient_statistics(x, t_x, T, w, dropout_at_first=True)


_LIKELIHOOD = PurchaseLikelihood[bgnbd._LikelihoodData](
    label="MBG/NBD",
    names=_PARAM_NAMES,
    time_params=(False, True, False, False),
    statistics=_statistics,
    loglik_and_grad=bgnbd._loglik_and_grad,
    starts=bgnbd._starts,
)


def mbgnbd_log_likelihood(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    r: float,
    alpha: float,
    a: float,
    b: float,
    weights: ArrayLike | None = None,
) -> float:
    """Total (weighted) MBG/NBD log-likelihood of a summary at given parameters."""
    x, t_x, Ta = validated_summary(frequency, recency, T)
    w = None if weights is None else coerce_weights(weights, len(x))
    d, _ = _statistics(x, t_x, Ta, w)
    return bgnbd._loglik_and_grad(np.log([r, alpha, a, b]), d)[0]


@blas_single_threaded
def fit_mbgnbd(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    penalizer: float = 0.0,
    min_customers: int = MIN_CUSTOMERS,
) -> MbgNbdFit:
    """Maximum-likelihood MBG/NBD fit: the procedure and guarantees of
    :func:`customer_value.clv.fit_bgnbd` (distinct-row collapsing, time rescaling,
    L-BFGS-B on log-parameters with the analytic gradient, warm start and Newton steps
    on large data, numerical-Hessian standard errors, ``converged=False`` and a
    ``message`` instead of an exception).  Every customer's likelihood has the dropout
    term here, so the per-row work covers one-time buyers too."""
    return fit_purchase_model(
        _LIKELIHOOD,
        MbgNbdFit,
        frequency,
        recency,
        T,
        weights,
        penalizer=penalizer,
        min_customers=min_customers,
        warm_start_rows=_WARM_START_ROWS,
    )


# --------------------------------------------------------------------------- predictions


def probability_alive_raw(
    x: FloatArray, t_x: FloatArray, T: FloatArray, r: float, alpha: float, a: float, b: float
) -> FloatArray:
    """P(alive at T | x, t_x, T) = 1 / (1 + a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x)), every x."""
    log_odds_dead = (r + x) * (np.log(alpha + T) - np.log(alpha + t_x)) + np.log(a) - np.log(b + x)
    return expit(-log_odds_dead)


def _if_alive_params(params: tuple[float, ...]) -> tuple[float, float, float, float]:
    """The BG/NBD parameters whose expectation given alive is the MBG/NBD's: b + 1."""
    r, alpha, a, b = params
    return r, alpha, a, b + 1.0


def cumulative_if_alive_by_pair(
    x: FloatArray, T: FloatArray, period_ends: FloatArray, params: tuple[float, ...]
) -> tuple[np.ndarray, FloatArray]:
    """Cumulative E[purchases | alive] at each period end on the distinct (x, T) pairs:
    :func:`customer_value.clv.bgnbd.cumulative_if_alive_by_pair` at b + 1."""
    return bgnbd.cumulative_if_alive_by_pair(x, T, period_ends, _if_alive_params(params))


def mbgnbd_probability_alive(x: ArrayLike, t_x: ArrayLike, T: ArrayLike, fit: MbgNbdFit) -> FloatArray:
    """P(customer still alive at T | x, t_x, T).  Below 1 for one-time buyers too, and
    falling with their T: they may have dropped out right after the first purchase.

    Raises :class:`ModelNotFittedError` for a non-converged fit and ``ValueError`` for
    invalid rows (see :func:`customer_value.clv.bgnbd.summary_validity`)."""
    params = fit.require_fitted()
    xa, ta, Ta = validated_summary(x, t_x, T)
    return probability_alive_raw(xa, ta, Ta, *params)


def mbgnbd_expected_purchases(t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike, fit: MbgNbdFit) -> FloatArray:
    """Conditional expected number of purchases in (T, T+t] (Wagner & Hoppe 2008), t in
    weeks: P(alive) times (a+b+x)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x)
    2F1(r+x, b+x+1; a+b+x; t/(alpha+T+t))], evaluated as the BG/NBD's expectation given
    alive at b + 1 (same numerics, including the a = 1 fallback).  ``t`` is a scalar or
    one value per customer; the result is finite, >= 0 and 0 at t = 0."""
    params = fit.require_fitted()
    xa, ta, Ta = validated_summary(x, t_x, T)
    tt = validated_horizon(t, len(xa))
    return probability_alive_raw(xa, ta, Ta, *params) * bgnbd.expected_if_alive(tt, xa, Ta, *_if_alive_params(params))


def mbgnbd_expected_purchases_by_period(
    x: ArrayLike, t_x: ArrayLike, T: ArrayLike, fit: MbgNbdFit, period_ends_weeks: ArrayLike
) -> FloatArray:
    """Expected purchases per period, shape ``(n_customers, n_periods)``: column k is
    E[purchases in (T + end[k-1], T + end[k]]] with end[-1] = 0, as
    :func:`customer_value.clv.bgnbd_expected_purchases_by_period`."""
    return purchases_by_period(x, t_x, T, fit, period_ends_weeks, probability_alive_raw, cumulative_if_alive_by_pair)


def mbgnbd_probability_of_purchases(x: ArrayLike, t: ArrayLike, fit: MbgNbdFit) -> FloatArray:
    """P(X(t) = x) for a customer drawn from the population, ``t`` weeks after the first
    purchase::

        P(X(t)=x) = B(a, b+x+1)/B(a, b) * Gamma(r+x)/(Gamma(r) x!) (alpha/(alpha+t))^r (t/(alpha+t))^x
                    + B(a+1, b+x)/B(a, b) * P(N >= x),   N ~ NB(r, alpha/(alpha+t))

    ("alive after x + 1 opportunities with x purchases" plus "dropped out right after the
    x-th purchase, x = 0 meaning right after the first"); the NB tail comes from
    ``scipy.stats.nbinom.sf``.  ``x`` and ``t`` broadcast; P(X(0) = 0) = 1."""
    r, alpha, a, b = fit.require_fitted()
    xa, ta = validated_counts_and_times(x, t)
    return bgnbd.probability_of_purchases_raw(xa, ta, r, alpha, a, b, dropout_at_first=True)


def mbgnbd_expected_repeat_purchase_counts(T: ArrayLike, fit: MbgNbdFit, max_frequency: int) -> FloatArray:
    """Expected number of customers with 0, 1, ..., ``max_frequency - 1`` and
    ``max_frequency`` or more repeat purchases in their own period ``T`` (weeks): the sum
    over customers of P(X(T_i) = x), the model-fit chart.  Sums to the number of customers."""
    return repeat_purchase_histogram(T, max_frequency, lambda x, t: mbgnbd_probability_of_purchases(x, t, fit))
