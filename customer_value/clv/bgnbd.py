"""BG/NBD model: Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way:
An Alternative to the Pareto/NBD Model", Marketing Science 24(2), 275-284.

Per customer: ``x`` = number of repeat purchase days (frequency), ``t_x`` = time of
the last purchase day after the first (recency) and ``T`` = time from the first
purchase day to the end of observation, both in weeks.  While active a customer
buys at Poisson rate ``lambda ~ Gamma(r, alpha)`` (shape, rate; alpha in weeks) and
after every purchase drops out with probability ``p ~ Beta(a, b)``.

Individual likelihood (paper eq. 6, written as in Hardie's note 004 section 7)::

    L = B(a, b+x)/B(a, b) * Gamma(r+x) alpha^r / Gamma(r)
        * [ (alpha+T)^-(r+x) + 1{x>0} * a/(b+x-1) * (alpha+t_x)^-(r+x) ]

evaluated in log space (``gammaln``/``betaln`` and a log-sum-exp of the two terms).
One-time buyers (x = 0) go through the same formula: the indicator drops the second
term, so no special case is needed anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1, xlogy
from scipy.stats import nbinom

from ._common import (
    MIN_CUSTOMERS,
    FloatArray,
    bincount_f64,
    blas_single_threaded,
    chunked_map,
    coerce_weights,
    distinct_rows,
    vdot,
)
from ._purchase_common import (
    PurchaseFitFields,
    PurchaseLikelihood,
    clean_recency,
    fit_purchase_model,
    purchases_by_period,
    repeat_purchase_histogram,
    summary_validity,
    validated_counts_and_times,
    validated_horizon,
    validated_summary,
)

__all__ = ["clean_recency", "summary_validity"]  # re-exported: predict.py and callers import them from here

_PARAM_NAMES = ("r", "alpha", "a", "b")
_WARM_START_ROWS = 50_000
_validated = validated_summary


@dataclass(frozen=True)
class BgNbdFit(PurchaseFitFields):
    """Result of :func:`fit_bgnbd`: the four parameters (positional, first) and the
    keyword-only fields every purchase model's fit holds (:class:`PurchaseFitFields`).

    When ``converged`` is False the four parameters are NaN, ``message`` says why,
    and every prediction function raises :class:`ModelNotFittedError` instead of
    returning numbers.  ``log_likelihood`` is the *total* (weighted) log-likelihood
    in the caller's time unit (weeks), without penalty.
    """

    r: float
    alpha: float
    a: float
    b: float

    PARAM_NAMES: ClassVar[tuple[str, ...]] = _PARAM_NAMES
    MODEL_LABEL: ClassVar[str] = "BG/NBD"


# --------------------------------------------------------------------------- likelihood


@dataclass(frozen=True)
class _LikelihoodData:
    """Sufficient statistics of a summary for the BG/NBD (or MBG/NBD) likelihood.

    The distinct (x, t_x, T) combinations are held as integer codes into small tables
    of x, t_x and T values, so that log(alpha + T) etc. are evaluated once per distinct
    value.  The first term's -(r + x) log(alpha + T) is linear in per-T sums of w and
    w x over *all* combinations; only the combinations with a second term need per-row
    work (the log-sum-exp of the two terms): repeat buyers' in the BG/NBD, everybody's
    in the MBG/NBD (``dropout_at_first``, see :mod:`customer_value.clv.mbgnbd`).
    """

    x_tab: FloatArray  # x value per x code
    w_x: FloatArray  # weight per x code (all customers)
    T_tab: FloatArray
    W_T: FloatArray  # weight per T code (all customers)
    WX_T: FloatArray  # sum of w * x per T code
    t_tab: FloatArray
    xi: NDArray[np.int64]  # repeat buyers' combinations: codes and weights
    Ti: NDArray[np.int64]
    ti: NDArray[np.int64]
    w: FloatArray
    #: MBG/NBD: a customer can also drop out right after the first purchase
    dropout_at_first: bool = False

    @property
    def total_weight(self) -> float:
        return float(self.w_x.sum())

    @property
    def n_rows(self) -> int:
        return len(self.w)

    def scaled(self, s: float) -> _LikelihoodData:
        return replace(self, T_tab=self.T_tab / s, t_tab=self.t_tab / s)


def _sufficient_statistics(
    x: FloatArray, t_x: FloatArray, T: FloatArray, w: FloatArray | None, dropout_at_first: bool = False
) -> tuple[_LikelihoodData, int]:
    """Collapse rows to distinct (x, t_x, T); returns the statistics and the number of
    distinct combinations."""
    dr = distinct_rows([x, t_x, T], weights=w)
    (x_tab, t_tab, T_tab), (xc, tc, Tc), wc = dr.tables, dr.codes, dr.weight
    xv = x_tab[xc]
    w_x = bincount_f64(xc, wc, len(x_tab))
    W_T = bincount_f64(Tc, wc, len(T_tab))
    WX_T = bincount_f64(Tc, wc * xv, len(T_tab))
    rep = np.ones(len(xv), dtype=bool) if dropout_at_first else xv > 0
    data = _LikelihoodData(
        x_tab=x_tab,
        w_x=w_x,
        T_tab=T_tab,
        W_T=W_T,
        WX_T=WX_T,
        t_tab=t_tab,
        xi=xc[rep],
        Ti=Tc[rep],
        ti=tc[rep],
        w=wc[rep],
        dropout_at_first=dropout_at_first,
    )
    return data, len(dr)


def _loglik_and_grad(theta: FloatArray, d: _LikelihoodData) -> tuple[float, FloatArray]:
    """Total weighted log-likelihood and its gradient w.r.t. log(r, alpha, a, b).

    The MBG/NBD's (``d.dropout_at_first``) differs in three places: B(a, b+x+1) for
    B(a, b+x) (one more survived dropout opportunity), the odds a/(b+x) for a/(b+x-1),
    and the second term for every customer, not only repeat buyers."""
    r, alpha, a, b = np.exp(theta)
    xt = d.x_tab
    used = d.w_x > 0
    x, wx = xt[used], d.w_x[used]
    xb = x + 1.0 if d.dropout_at_first else x  # survived dropout opportunities
    W = float(wx.sum())
    # terms that depend on x only: lnG(r+x) - lnG(r) + r ln(alpha) + lnB(a, b+x) - lnB(a, b)
    ll = float(wx @ (gammaln(r + x) + betaln(a, b + xb))) + W * (r * np.log(alpha) - gammaln(r) - betaln(a, b))
    psi_abx = digamma(a + b + xb)
    g_r = float(wx @ digamma(r + x)) - W * (digamma(r) - np.log(alpha))
    g_alpha = W * r / alpha
    g_a = W * digamma(a + b) - float(wx @ psi_abx)
    g_b = float(wx @ (digamma(b + xb) - psi_abx)) + W * (digamma(a + b) - digamma(b))

    # first term, every customer: -(r + x) log(alpha + T), linear in per-T sums
    lT_tab = np.log(alpha + d.T_tab)
    iT_tab = 1.0 / (alpha + d.T_tab)
    ll -= float((r * d.W_T + d.WX_T) @ lT_tab)
    g_r -= float(d.W_T @ lT_tab)
    g_alpha -= float((r * d.W_T + d.WX_T) @ iT_tab)

    # repeat buyers: log(e^A3 + e^A4) = A3 + softplus(A4 - A3) with
    # A4 - A3 = log(a/(b+x-1)) + (r+x) log((alpha+T)/(alpha+t_x))  (MBG/NBD: a/(b+x))
    if len(d.w):
        lt_tab = np.log(alpha + d.t_tab)
        it_tab = 1.0 / (alpha + d.t_tab)
        odds_denominator = b + xt if d.dropout_at_first else b + np.maximum(xt, 1.0) - 1.0
        rx_tab = r + xt
        c_tab = np.log(a) - np.log(odds_denominator)

        def part(sl: slice) -> tuple[float, float, float, float, FloatArray]:
            xi, Ti, ti, w = d.xi[sl], d.Ti[sl], d.ti[sl], d.w[sl]
            rx = rx_tab[xi]
            dlog = lT_tab[Ti] - lt_tab[ti]
            diff = c_tab[xi] + rx * dlog
            # softplus(diff) and expit(diff) from one exp: e = exp(-|diff|) in (0, 1];
            # log(1 + e) instead of log1p costs <= 1e-16 absolute per row, which is all
            # a sum needs
            e = np.exp(-np.abs(diff))
            one_e = 1.0 + e
            softplus = np.log(one_e) + np.maximum(diff, 0.0)
            ww4 = w * np.where(diff >= 0.0, 1.0, e) / one_e  # weight x share of the second term
            return (
                vdot(w, softplus),
                float(ww4.sum()),
                vdot(ww4, dlog),
                vdot(ww4, rx * (iT_tab[Ti] - it_tab[ti])),
                bincount_f64(xi, ww4, len(xt)),
            )

        parts = chunked_map(part, len(d.w))
        ll += sum(p[0] for p in parts)
        sw4 = sum(p[1] for p in parts)
        g_r += sum(p[2] for p in parts)
        g_alpha += sum(p[3] for p in parts)
        g_a += sw4 / a
        g_b -= float(sum(p[4] for p in parts) @ (1.0 / odds_denominator))

    grad = np.array([g_r * r, g_alpha * alpha, g_a * a, g_b * b])
    return ll, grad


def bgnbd_log_likelihood(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    r: float,
    alpha: float,
    a: float,
    b: float,
    weights: ArrayLike | None = None,
) -> float:
    """Total (weighted) BG/NBD log-likelihood of a summary at given parameters."""
    x, t_x, Ta = _validated(frequency, recency, T)
    w = None if weights is None else coerce_weights(weights, len(x))
    d, _ = _sufficient_statistics(x, t_x, Ta, w)
    return _loglik_and_grad(np.log([r, alpha, a, b]), d)[0]


# --------------------------------------------------------------------------- fit


def _starts(rate: float) -> tuple[FloatArray, list[FloatArray]]:
    """Log-parameter starts on the rescaled time axis: a moment-based one, two spares."""
    first = np.log([1.0, 1.0 / max(rate, 1e-6), 1.0, 3.0])
    return first, [np.full(4, 0.1), np.log([0.3, 0.3 / max(rate, 1e-6), 0.5, 1.0])]


_LIKELIHOOD = PurchaseLikelihood[_LikelihoodData](
    label="BG/NBD",
    names=_PARAM_NAMES,
    time_params=(False, True, False, False),
    statistics=_sufficient_statistics,
    loglik_and_grad=_loglik_and_grad,
    starts=_starts,
)


@blas_single_threaded
def fit_bgnbd(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    penalizer: float = 0.0,
    min_customers: int = MIN_CUSTOMERS,
) -> BgNbdFit:
    """Maximum-likelihood BG/NBD fit.

    ``frequency`` (repeat purchase days), ``recency`` and ``T`` (weeks) per customer;
    ``weights`` optionally counts customers per row.  Rows are collapsed to their
    distinct ``(x, t_x, T)`` combinations (weights summed) before fitting, so the cost
    depends on the number of distinct combinations, not of customers.

    Time is rescaled by ``max(T) / 10`` for conditioning; log-parameters are optimised
    with L-BFGS-B (analytic gradient, bounds ``|log param| <= 13.8``) from a moment
    based start.  With more than 200,000 distinct repeat-buyer combinations the start
    comes from a fit on every k-th customer (~50,000 combinations) and the full data
    are only used for a few Newton steps.  If the optimum is not clean (at a bound,
    Hessian not positive definite, parameters not identified) two more starts are tried.
    Standard errors come from the finite-difference Hessian of the log-likelihood at
    the optimum (delta method from the log-parameters).
    ``penalizer`` adds ``penalizer * sum(param**2)`` (parameters on the rescaled time
    axis) to the *mean* negative log-likelihood, as lifetimes' ``penalizer_coef`` does;
    the default 0 is plain maximum likelihood.

    Never raises on data: invalid rows are excluded (``n_excluded``), and empty input,
    fewer than ``min_customers`` customers (total weight), nobody repeating, or a
    degenerate / non-identified optimum return ``converged=False`` with NaN parameters
    and the reason in ``message``.
    """
    return fit_purchase_model(
        _LIKELIHOOD,
        BgNbdFit,
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
    """P(alive at T | x, t_x, T) = 1 / (1 + 1{x>0} a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))."""
    log_odds_dead = (
        (r + x) * (np.log(alpha + T) - np.log(alpha + t_x)) + np.log(a) - np.log(b + np.maximum(x, 1.0) - 1.0)
    )
    return np.where(x > 0, expit(-log_odds_dead), 1.0)


def quadrature_if_alive(
    t: FloatArray, x: FloatArray, T: FloatArray, r: float, alpha: float, a: float, b: float
) -> FloatArray:
    """E[purchases in (T, T+t] | alive at T] by direct integration (fallback path).

    Given alive, lambda | data ~ Gamma(r+x, alpha+T) and p | data ~ Beta(a, b+x)
    independently, and E[count | lambda, p] = (1 - exp(-lambda p t)) / p, so

        E = E_p[ (1 - (1 + p t/(alpha+T))^-(r+x)) / p ].

    The Beta expectation is a trapezoid rule on a uniform grid in u = logit(p), where
    the integrand times the density is smooth and decays exponentially at both ends
    (the rule converges geometrically).  With b' = b + x, the log-density in u is
    a log(sigma(u)) + b' log(1 - sigma(u)), mode u* = log(a/b'); its slope is at least
    a/2 beyond u* - log(2 (a+b')/b') and at most -b'/2 beyond u* + log(2 (a+b')/a), so
    the range [u* - log(2(a+b')/b') - 80/a, u* + log(2(a+b')/a) + 80/b'] drops at least
    40 nats at both ends.  Valid for every a, b > 0, including a = 1 and
    a + b + x - 1 <= 0 where eq. 10 is singular.
    """
    n_nodes = 8193
    out = np.empty(len(t), dtype=np.float64)
    grid = np.linspace(0.0, 1.0, n_nodes)
    for start in range(0, len(t), 128):
        sl = slice(start, start + 128)
        bp = (b + x[sl])[:, None]
        mode = np.log(a / bp)
        lo = mode - np.log(2.0 * (a + bp) / bp) - 80.0 / a
        hi = mode + np.log(2.0 * (a + bp) / a) + 80.0 / bp
        u = lo + (hi - lo) * grid[None, :]
        log_p = -np.logaddexp(0.0, -u)
        log_q = -np.logaddexp(0.0, u)
        log_dens = a * log_p + bp * log_q
        dens = np.exp(log_dens - log_dens.max(axis=1, keepdims=True))
        dens[:, [0, -1]] *= 0.5
        p = np.exp(log_p)
        k = (t[sl] / (alpha + T[sl]))[:, None]
        rx = (r + x[sl])[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            g = -np.expm1(-rx * np.log1p(p * k)) / p
        g = np.where(p > 1e-280, g, rx * k)
        out[sl] = (g * dens).sum(axis=1) / dens.sum(axis=1)
    return out


def expected_if_alive(
    t: FloatArray, x: FloatArray, T: FloatArray, r: float, alpha: float, a: float, b: float
) -> FloatArray:
    """E[purchases in (T, T+t] | alive at T, x, T] (eq. 10 of the paper times 1/P(alive)).

    Eq. 10's bracket ``1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)``
    with ``z = t/(alpha+T+t)`` is rewritten with Euler's transformation
    ``2F1(A,B;C;z) = (1-z)^(C-A-B) 2F1(C-A, C-B; C; z)`` into

        1 - (1-z)^(a-1) 2F1(a-1, a+b-1-r; a+b+x-1; z),

    whose hypergeometric factor has parameters that do not grow with x and stays near 1:
    no overflow for large x or T (the untransformed 2F1 overflows around x ~ 1000).
    Entries where it is still unusable (non-finite, outside the bounds
    ``0 <= E <= t (r+x)/(alpha+T)``, ``a`` within 1e-6 of 1 or C = a+b+x-1 near a
    non-positive integer) are recomputed by :func:`quadrature_if_alive`.
    """
    t, x, T = np.broadcast_arrays(np.asarray(t, float), np.asarray(x, float), np.asarray(T, float))
    shape = t.shape
    t, x, T = t.ravel(), x.ravel(), T.ravel()
    upper = t * (r + x) / (alpha + T)
    c = a + b + x - 1.0
    with np.errstate(all="ignore"):
        z = t / (alpha + T + t)
        log_pow = (a - 1.0) * np.log1p(-z)
        F = hyp2f1(a - 1.0, a + b - 1.0 - r, c, z)
        one_minus = -np.expm1(log_pow) - np.exp(log_pow) * (F - 1.0)
        e = (c / (a - 1.0)) * one_minus
    tol = 1e-9 * (1.0 + upper)
    bad = ~np.isfinite(e) | (e < -tol) | (e > upper + tol)
    if abs(a - 1.0) < 1e-6:
        bad[:] = True
    near_pole = (c < 0.5) & (np.abs(c - np.round(c)) < 1e-6)
    bad |= near_pole
    bad &= t > 0
    if bad.any():
        e[bad] = quadrature_if_alive(t[bad], x[bad], T[bad], r, alpha, a, b)
    e = np.where(t > 0, np.clip(e, 0.0, upper), 0.0)
    return e.reshape(shape)


def bgnbd_probability_alive(x: ArrayLike, t_x: ArrayLike, T: ArrayLike, fit: BgNbdFit) -> FloatArray:
    """P(customer still alive at T | x, t_x, T).  Exactly 1 for one-time buyers (x = 0)
    in the BG/NBD (dropout happens only right after a repeat purchase).

    Raises :class:`ModelNotFittedError` for a non-converged fit and ``ValueError`` for
    invalid rows (see :func:`summary_validity`).
    """
    r, alpha, a, b = fit.require_fitted()
    xa, ta, Ta = _validated(x, t_x, T)
    return probability_alive_raw(xa, ta, Ta, r, alpha, a, b)


def bgnbd_expected_purchases(t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike, fit: BgNbdFit) -> FloatArray:
    """Conditional expected number of purchases in (T, T+t] (paper eq. 10), t in weeks.

    ``t`` is a scalar or an array of the customers' length.  Always finite and >= 0,
    increasing in t, and 0 at t = 0.
    """
    r, alpha, a, b = fit.require_fitted()
    xa, ta, Ta = _validated(x, t_x, T)
    tt = validated_horizon(t, len(xa))
    return probability_alive_raw(xa, ta, Ta, r, alpha, a, b) * expected_if_alive(tt, xa, Ta, r, alpha, a, b)


def cumulative_if_alive_by_pair(
    x: FloatArray, T: FloatArray, period_ends: FloatArray, params: tuple[float, float, float, float]
) -> tuple[np.ndarray, FloatArray]:
    """Cumulative E[purchases | alive] at each period end, on the distinct (x, T) pairs.

    Returns ``(pair_index_per_row, matrix[n_pairs, n_periods])``.  The hypergeometric
    part of eq. 10 does not involve t_x, so it is evaluated once per distinct (x, T).
    """
    dr = distinct_rows([x, T], return_inverse=True)
    xp, Tp, inverse = dr.values(0), dr.values(1), dr.inverse
    assert inverse is not None
    cum = expected_if_alive(period_ends[None, :], xp[:, None], Tp[:, None], *params)
    # enforce monotonicity against last-ulp noise
    cum = np.maximum.accumulate(cum, axis=1)
    return inverse, cum


def bgnbd_expected_purchases_by_period(
    x: ArrayLike, t_x: ArrayLike, T: ArrayLike, fit: BgNbdFit, period_ends_weeks: ArrayLike
) -> FloatArray:
    """Expected purchases per period, shape ``(n_customers, n_periods)``.

    ``period_ends_weeks`` are the ends of consecutive periods measured in weeks after
    each customer's T (e.g. ``np.arange(1, 13) * WEEKS_PER_MONTH``); column k is
    E[purchases in (T + end[k-1], T + end[k]]] with end[-1] = 0, i.e. the increments of
    the cumulative eq. 10.  Rows sum to ``bgnbd_expected_purchases(end[-1], ...)``.
    """
    return purchases_by_period(x, t_x, T, fit, period_ends_weeks, probability_alive_raw, cumulative_if_alive_by_pair)


# --------------------------------------------------------------------------- model fit


def bgnbd_probability_of_purchases(x: ArrayLike, t: ArrayLike, fit: BgNbdFit) -> FloatArray:
    """P(X(t) = x): the probability that a customer drawn from the population makes
    exactly ``x`` repeat purchases in a period of length ``t`` weeks after the first
    (paper eq. 8)::

        P(X(t)=x) = B(a, b+x)/B(a, b) * Gamma(r+x)/(Gamma(r) x!) * (alpha/(alpha+t))^r * (t/(alpha+t))^x
                    + 1{x>0} * B(a+1, b+x-1)/B(a, b)
                      * [1 - (alpha/(alpha+t))^r * sum_{j<x} Gamma(r+j)/(Gamma(r) j!) (t/(alpha+t))^j]

    The first term is "still alive at t, x purchases", the second "dropped out after the
    x-th purchase"; the bracket is the upper tail P(N >= x) of the negative binomial
    count N ~ NB(r, alpha/(alpha+t)) of purchases while alive, taken from
    ``scipy.stats.nbinom.sf`` so it stays accurate where it is small. ``x`` and ``t``
    broadcast; x must be a non-negative integer, t finite and >= 0 (P(X(0)=0) = 1).
    """
    r, alpha, a, b = fit.require_fitted()
    xa, ta = validated_counts_and_times(x, t)
    return probability_of_purchases_raw(xa, ta, r, alpha, a, b)


def probability_of_purchases_raw(
    xa: FloatArray, ta: FloatArray, r: float, alpha: float, a: float, b: float, dropout_at_first: bool = False
) -> FloatArray:
    """P(X(t) = x) on validated, broadcast ``xa`` and ``ta`` (BG/NBD, or with
    ``dropout_at_first`` the MBG/NBD: alive with one more survived dropout opportunity,
    B(a, b+x+1), and "dropped out right after the x-th purchase" for every x, x = 0 being
    "dropped out right after the first purchase")."""
    log_p = np.log(alpha) - np.log(alpha + ta)  # log(alpha / (alpha + t))
    survived = xa + 1.0 if dropout_at_first else xa  # dropout opportunities survived
    alive = np.exp(
        betaln(a, b + survived)
        - betaln(a, b)
        + gammaln(r + xa)
        - gammaln(r)
        - gammaln(xa + 1)
        + r * log_p
        + xlogy(xa, ta / (alpha + ta))
    )
    # dropped out right after the x-th purchase, having made at least x while alive
    if dropout_at_first:
        dropped = np.exp(betaln(a + 1, b + xa) - betaln(a, b)) * nbinom.sf(xa - 1, r, np.exp(log_p))
        return alive + dropped
    x_at_least_1 = np.maximum(xa, 1.0)
    dropped = np.exp(betaln(a + 1, b + x_at_least_1 - 1) - betaln(a, b)) * nbinom.sf(x_at_least_1 - 1, r, np.exp(log_p))
    return alive + np.where(xa > 0, dropped, 0.0)


def bgnbd_expected_repeat_purchase_counts(T: ArrayLike, fit: BgNbdFit, max_frequency: int) -> FloatArray:
    """Expected number of customers with 0, 1, ..., ``max_frequency - 1`` and
    ``max_frequency`` or more repeat purchases in their own observation period ``T``
    (weeks since their first purchase), the model-fit check of the paper's Figure 3:
    the sum over customers of P(X(T_i) = x). Length ``max_frequency + 1``; sums to the
    number of customers.
    """
    return repeat_purchase_histogram(T, max_frequency, lambda x, t: bgnbd_probability_of_purchases(x, t, fit))
