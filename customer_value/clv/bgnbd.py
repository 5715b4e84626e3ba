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

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1, xlogy
from scipy.stats import nbinom

from ._common import (
    MIN_CUSTOMERS,
    FloatArray,
    ModelNotFittedError,
    OptimResult,
    as_float_array,
    bincount_f64,
    blas_single_threaded,
    check_identified,
    check_same_length,
    chunked_map,
    coerce_weights,
    distinct_rows,
    log_space_standard_errors,
    minimize_log_params,
    numerical_hessian,
    optimise_log_params,
    vdot,
)

_PARAM_NAMES = ("r", "alpha", "a", "b")
_WARM_START_ROWS = 50_000


@dataclass(frozen=True)
class BgNbdFit:
    """Result of :func:`fit_bgnbd`.

    When ``converged`` is False the four parameters are NaN, ``message`` says why,
    and every prediction function raises :class:`ModelNotFittedError` instead of
    returning numbers.  ``log_likelihood`` is the *total* (weighted) log-likelihood
    in the caller's time unit (weeks), without penalty.
    """

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    n_customers: int
    converged: bool
    message: str
    #: sum of the weights of the customers used (== n_customers without weights)
    total_weight: float = 0.0
    #: rows dropped as invalid (non-finite, negative, non-integer x, t_x > T, weight <= 0)
    n_excluded: int = 0
    #: distinct (x, t_x, T) combinations the likelihood was evaluated on
    n_distinct: int = 0
    #: asymptotic standard errors from the numerical Hessian of the log-likelihood at the
    #: optimum (delta method from the log-parameters); None when not converged
    standard_errors: dict[str, float] | None = field(default=None, compare=False)
    penalizer: float = 0.0
    iterations: int = 0
    #: asymptotic covariance of (log r, log alpha, log a, log b) (the inverse Hessian of
    #: the negative log-likelihood in log-parameters; the same in any time unit), for
    #: drawing parameters that are as uncertain as the fit; None when not converged
    log_covariance: tuple[tuple[float, ...], ...] | None = field(default=None, compare=False)

    @property
    def params(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}

    def require_fitted(self) -> tuple[float, float, float, float]:
        """The parameters, or :class:`ModelNotFittedError` carrying ``message``."""
        if not self.converged:
            raise ModelNotFittedError(f"BG/NBD model not fitted: {self.message}")
        return self.r, self.alpha, self.a, self.b


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


def _validated(x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
    xa = as_float_array(x, "frequency")
    ta = as_float_array(t_x, "recency")
    Ta = as_float_array(T, "T")
    n = check_same_length(frequency=xa, recency=ta, T=Ta)
    valid, reasons = summary_validity(xa, ta, Ta)
    if not valid.all():
        i = int(np.argmin(valid))
        raise ValueError(f"{int((~valid).sum())} of {n} rows are invalid, e.g. row {i}: {reasons[i]}")
    return xa, clean_recency(xa, ta, Ta), Ta


# --------------------------------------------------------------------------- likelihood


@dataclass(frozen=True)
class _LikelihoodData:
    """Sufficient statistics of a summary for the BG/NBD likelihood.

    The distinct (x, t_x, T) combinations are held as integer codes into small tables
    of x, t_x and T values, so that log(alpha + T) etc. are evaluated once per distinct
    value.  The first term's -(r + x) log(alpha + T) is linear in per-T sums of w and
    w x over *all* combinations; only repeat buyers' combinations need per-row work
    (the log-sum-exp of the two terms).
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

    @property
    def total_weight(self) -> float:
        return float(self.w_x.sum())

    def scaled(self, s: float) -> _LikelihoodData:
        return replace(self, T_tab=self.T_tab / s, t_tab=self.t_tab / s)


def _sufficient_statistics(
    x: FloatArray, t_x: FloatArray, T: FloatArray, w: FloatArray | None
) -> tuple[_LikelihoodData, int]:
    """Collapse rows to distinct (x, t_x, T); returns the statistics and the number of
    distinct combinations."""
    dr = distinct_rows([x, t_x, T], weights=w)
    (x_tab, t_tab, T_tab), (xc, tc, Tc), wc = dr.tables, dr.codes, dr.weight
    xv = x_tab[xc]
    w_x = bincount_f64(xc, wc, len(x_tab))
    W_T = bincount_f64(Tc, wc, len(T_tab))
    WX_T = bincount_f64(Tc, wc * xv, len(T_tab))
    rep = xv > 0
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
    )
    return data, len(dr)


def _loglik_and_grad(theta: FloatArray, d: _LikelihoodData) -> tuple[float, FloatArray]:
    """Total weighted log-likelihood and its gradient w.r.t. log(r, alpha, a, b)."""
    r, alpha, a, b = np.exp(theta)
    xt = d.x_tab
    used = d.w_x > 0
    x, wx = xt[used], d.w_x[used]
    W = float(wx.sum())
    # terms that depend on x only: lnG(r+x) - lnG(r) + r ln(alpha) + lnB(a, b+x) - lnB(a, b)
    ll = float(wx @ (gammaln(r + x) + betaln(a, b + x))) + W * (r * np.log(alpha) - gammaln(r) - betaln(a, b))
    psi_abx = digamma(a + b + x)
    g_r = float(wx @ digamma(r + x)) - W * (digamma(r) - np.log(alpha))
    g_alpha = W * r / alpha
    g_a = W * digamma(a + b) - float(wx @ psi_abx)
    g_b = float(wx @ (digamma(b + x) - psi_abx)) + W * (digamma(a + b) - digamma(b))

    # first term, every customer: -(r + x) log(alpha + T), linear in per-T sums
    lT_tab = np.log(alpha + d.T_tab)
    iT_tab = 1.0 / (alpha + d.T_tab)
    ll -= float((r * d.W_T + d.WX_T) @ lT_tab)
    g_r -= float(d.W_T @ lT_tab)
    g_alpha -= float((r * d.W_T + d.WX_T) @ iT_tab)

    # repeat buyers: log(e^A3 + e^A4) = A3 + softplus(A4 - A3) with
    # A4 - A3 = log(a/(b+x-1)) + (r+x) log((alpha+T)/(alpha+t_x))
    if len(d.w):
        lt_tab = np.log(alpha + d.t_tab)
        it_tab = 1.0 / (alpha + d.t_tab)
        xpos = np.maximum(xt, 1.0)
        rx_tab = r + xt
        c_tab = np.log(a) - np.log(b + xpos - 1.0)

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
        g_b -= float(sum(p[4] for p in parts) @ (1.0 / (b + xpos - 1.0)))

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


def _not_fitted(message: str, **kw: object) -> BgNbdFit:
    nan = float("nan")
    return BgNbdFit(r=nan, alpha=nan, a=nan, b=nan, log_likelihood=nan, converged=False, message=message, **kw)  # type: ignore[arg-type]


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
    info = {"n_customers": len(x), "total_weight": total_weight, "n_excluded": n_excluded, "penalizer": penalizer}
    excluded_note = f" ({n_excluded} invalid rows excluded)" if n_excluded else ""

    if len(x) == 0:
        return _not_fitted("no valid customers" + excluded_note, **info)
    if total_weight < min_customers:
        return _not_fitted(
            f"too few customers to fit BG/NBD: {total_weight:g} < minimum {min_customers}" + excluded_note, **info
        )
    if not np.any(x > 0):
        return _not_fitted(
            "nobody made a repeat purchase (all frequency = 0): the purchase and dropout rates "
            "are not identifiable" + excluded_note,
            **info,
        )
    if float(Ta.max()) <= 0:
        return _not_fitted("all customers have T = 0: no observation time" + excluded_note, **info)

    data, info["n_distinct"] = _sufficient_statistics(x, t_x, Ta, None if weights is None else w)
    scale = float(Ta.max()) / 10.0
    sd = data.scaled(scale)
    W = data.total_weight

    def penalty(theta: FloatArray) -> tuple[float, FloatArray]:
        params = np.exp(theta)
        return penalizer * float(params @ params), 2.0 * penalizer * params * params

    def make_objective(d: _LikelihoodData) -> Callable[[FloatArray], tuple[float, FloatArray]]:
        def objective(theta: FloatArray) -> tuple[float, FloatArray]:
            ll, g = _loglik_and_grad(theta, d)
            pen, pen_g = penalty(theta)
            return -ll / W + pen, -g / W + pen_g

        return objective

    objective = make_objective(sd)
    rate = vdot(w, x) / max(vdot(w, Ta / scale), 1e-12)
    first_start = np.log([1.0, 1.0 / max(rate, 1e-6), 1.0, 3.0])
    extra_starts = [np.full(4, 0.1), np.log([0.3, 0.3 / max(rate, 1e-6), 0.5, 1.0])]
    # large data: optimise on a thinned copy (~_WARM_START_ROWS combinations) first,
    # then polish on the full data with Newton steps
    warm_objective = None
    if len(sd.w) > 4 * _WARM_START_ROWS:
        step = len(sd.w) // _WARM_START_ROWS  # every step-th customer, step times the weight
        thin, _ = _sufficient_statistics(x[::step], t_x[::step], Ta[::step], w[::step] * step)
        warm_objective = make_objective(thin.scaled(scale))

    def check(opt: OptimResult) -> tuple[FloatArray | None, str]:
        # Hessian of the total log-likelihood in log-parameters (scale-free): standard
        # errors, and the identification check (positive definite, finite SEs)
        neg_grad = lambda th: -_loglik_and_grad(th, sd)[1]
        hess = numerical_hessian(neg_grad, opt.x, grad_at_x=W * (opt.grad - penalty(opt.x)[1]))
        cov, cov_reason = log_space_standard_errors(hess)
        return cov, check_identified(opt.x, _PARAM_NAMES, opt, cov, cov_reason)

    opt = optimise_log_params(objective, first_start, warm_objective)
    cov, problem = check(opt)
    if problem:
        opt2 = minimize_log_params(objective, extra_starts)
        cov2, problem2 = check(opt2)
        if not problem2 or opt2.fun < opt.fun - 1e-12:
            opt, cov, problem = opt2, cov2, problem2

    r, alpha_s, a, b = np.exp(opt.x)
    alpha = alpha_s * scale
    info["iterations"] = opt.iterations
    if problem:
        return _not_fitted(
            problem + f"; last estimate r={r:.4g}, alpha={alpha:.4g}, a={a:.4g}, b={b:.4g}" + excluded_note,
            **info,
        )
    # back to weeks: l(x, t_x/s, T/s; r, alpha/s, a, b) = l(x, t_x, T; r, alpha, a, b) + x log s
    ll = -W * (opt.fun - penalty(opt.x)[0]) - np.log(scale) * vdot(w, x)
    assert cov is not None
    se_log = np.sqrt(np.diag(cov))
    ses = dict(zip(_PARAM_NAMES, (float(v) for v in np.array([r, alpha, a, b]) * se_log)))
    return BgNbdFit(
        r=float(r),
        alpha=float(alpha),
        a=float(a),
        b=float(b),
        log_likelihood=float(ll),
        converged=True,
        message="converged" + excluded_note,
        standard_errors=ses,
        log_covariance=tuple(tuple(float(v) for v in row) for row in cov),
        **info,  # type: ignore[arg-type]
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
    tt = np.broadcast_to(np.asarray(t, dtype=np.float64), xa.shape).astype(np.float64)
    if not np.all(np.isfinite(tt)) or np.any(tt < 0):
        raise ValueError("t must be finite and >= 0")
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


def _period_ends(period_ends_weeks: ArrayLike) -> FloatArray:
    ends = as_float_array(period_ends_weeks, "period_ends_weeks")
    if not np.all(np.isfinite(ends)) or np.any(ends < 0) or np.any(np.diff(ends) < 0):
        raise ValueError("period_ends_weeks must be finite, >= 0 and non-decreasing")
    return ends


def bgnbd_expected_purchases_by_period(
    x: ArrayLike, t_x: ArrayLike, T: ArrayLike, fit: BgNbdFit, period_ends_weeks: ArrayLike
) -> FloatArray:
    """Expected purchases per period, shape ``(n_customers, n_periods)``.

    ``period_ends_weeks`` are the ends of consecutive periods measured in weeks after
    each customer's T (e.g. ``np.arange(1, 13) * WEEKS_PER_MONTH``); column k is
    E[purchases in (T + end[k-1], T + end[k]]] with end[-1] = 0, i.e. the increments of
    the cumulative eq. 10.  Rows sum to ``bgnbd_expected_purchases(end[-1], ...)``.
    """
    params = fit.require_fitted()
    xa, ta, Ta = _validated(x, t_x, T)
    ends = _period_ends(period_ends_weeks)
    if len(ends) == 0 or len(xa) == 0:
        return np.zeros((len(xa), len(ends)))
    inverse, cum = cumulative_if_alive_by_pair(xa, Ta, ends, params)
    inc = np.diff(cum, axis=1, prepend=0.0)
    return probability_alive_raw(xa, ta, Ta, *params)[:, None] * inc[inverse]


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
    xa = np.asarray(x, dtype=np.float64)
    ta = np.asarray(t, dtype=np.float64)
    if not np.all(np.isfinite(xa)) or np.any(xa < 0) or np.any(xa != np.round(xa)):
        raise ValueError("x must be non-negative integers")
    if not np.all(np.isfinite(ta)) or np.any(ta < 0):
        raise ValueError("t must be finite and >= 0")
    xa, ta = np.broadcast_arrays(xa, ta)
    log_p = np.log(alpha) - np.log(alpha + ta)  # log(alpha / (alpha + t))
    alive = np.exp(
        betaln(a, b + xa) - betaln(a, b) + gammaln(r + xa) - gammaln(r) - gammaln(xa + 1)
        + r * log_p + xlogy(xa, ta / (alpha + ta))
    )
    x_at_least_1 = np.maximum(xa, 1.0)
    dropped = np.exp(betaln(a + 1, b + x_at_least_1 - 1) - betaln(a, b)) * nbinom.sf(
        x_at_least_1 - 1, r, np.exp(log_p)
    )
    return alive + np.where(xa > 0, dropped, 0.0)


def bgnbd_expected_repeat_purchase_counts(T: ArrayLike, fit: BgNbdFit, max_frequency: int) -> FloatArray:
    """Expected number of customers with 0, 1, ..., ``max_frequency - 1`` and
    ``max_frequency`` or more repeat purchases in their own observation period ``T``
    (weeks since their first purchase), the model-fit check of the paper's Figure 3:
    the sum over customers of P(X(T_i) = x). Length ``max_frequency + 1``; sums to the
    number of customers.
    """
    if max_frequency < 1:
        raise ValueError("max_frequency must be at least 1")
    Ta = as_float_array(T, "T")
    if not np.all(np.isfinite(Ta)) or np.any(Ta < 0):
        raise ValueError("T must be finite and >= 0")
    periods, customers = np.unique(Ta, return_counts=True)
    x = np.arange(max_frequency, dtype=np.float64)
    probabilities = bgnbd_probability_of_purchases(x[None, :], periods[:, None], fit)
    below = customers @ probabilities
    return np.append(below, len(Ta) - below.sum())
