"""Gamma-Gamma spend model: Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value
Curves for Customer Base Analysis", Journal of Marketing Research 42(4), 415-430,
in the (p, q, v) parametrisation of Fader & Hardie's note 025 (the same as lifetimes').

A customer's transaction values are Gamma(p, nu) (shape, rate); across customers
nu ~ Gamma(q, v).  The observed mean ``m`` of ``x`` repeat transactions then has the
marginal density (log form)::

    log f(m | x) = lnG(p x + q) - lnG(p x) - lnG(q) + q ln v + (p x - 1) ln m
                   + p x ln x - (p x + q) ln(x m + v)

and the conditional expected average transaction value is

    E[M | x, m] = p (v + x m) / (p x + q - 1)
                = (q-1)/(p x + q - 1) * p v/(q-1) + p x/(p x + q - 1) * m,

a weighted average of the population mean p v / (q - 1) and the customer's own mean.
The mean exists only for q > 1: the fit optimises log(q - 1), so q > 1 always, and an
optimum that runs towards q = 1 is reported as not converged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import digamma, gammaln

from ._common import (
    LOG_PARAM_BOUND,
    MIN_CUSTOMERS,
    FitFields,
    FloatArray,
    OptimResult,
    as_float_array,
    bincount_f64,
    blas_single_threaded,
    check_identified,
    check_same_length,
    chunked_map,
    coerce_weights,
    column_codes,
    log_space_standard_errors,
    minimize_log_params,
    numerical_hessian,
    optimise_log_params,
    vdot,
)

_PARAM_NAMES = ("p", "q", "v")
_WARM_START_ROWS = 50_000


@dataclass(frozen=True)
class GammaGammaFit(FitFields):
    """Result of :func:`fit_gamma_gamma`: the three parameters (positional, first) and
    the keyword-only fields every fit holds (:class:`FitFields`).

    When ``converged`` is False the parameters are NaN, ``message`` says why, and
    :func:`gamma_gamma_expected_spend` raises :class:`ModelNotFittedError`.
    ``log_likelihood`` is the total (weighted) log-likelihood of the observed means in
    the caller's currency unit, without penalty.  ``n_excluded`` counts the rows not
    used: one-time buyers (frequency 0), monetary <= 0 or missing, invalid rows.
    ``log_covariance`` is that of (log p, log(q - 1), log v), the parameters the fit
    optimises.
    """

    p: float
    q: float
    v: float

    PARAM_NAMES: ClassVar[tuple[str, ...]] = ("p", "q", "v")
    MODEL_LABEL: ClassVar[str] = "Gamma-Gamma"


def _unpack(theta: FloatArray) -> tuple[float, float, float]:
    """theta = (log p, log(q - 1), log v)."""
    return float(np.exp(theta[0])), 1.0 + float(np.exp(theta[1])), float(np.exp(theta[2]))


@dataclass(frozen=True)
class _GGData:
    """Sufficient statistics: the x-only terms per distinct x, three constant sums, and
    per customer only x m and the weights (the one term that mixes v with the data is
    (p x + q) log(x m + v))."""

    x_u: FloatArray  # distinct frequencies
    w_u: FloatArray  # weight per distinct frequency
    xm: FloatArray  # per customer: x * m
    w: FloatArray  # per customer weight
    wx: FloatArray  # per customer w * x
    s_wxlogm: float  # sum w x ln m
    s_wlogm: float  # sum w ln m
    s_wxlogx: float  # sum w x ln x

    @classmethod
    def build(cls, x: FloatArray, m: FloatArray, w: FloatArray) -> _GGData:
        x_tab, xc = column_codes(x)
        wu = bincount_f64(xc, w, len(x_tab))
        xu, wu = x_tab[wu > 0], wu[wu > 0]
        logm = np.log(m)
        wx = w * x
        return cls(
            x_u=xu,
            w_u=wu,
            xm=x * m,
            w=w,
            wx=wx,
            s_wxlogm=vdot(wx, logm),
            s_wlogm=vdot(w, logm),
            s_wxlogx=float(wu @ (xu * np.log(xu))),
        )


def _loglik_and_grad(theta: FloatArray, d: _GGData) -> tuple[float, FloatArray]:
    """Total log-likelihood and gradient w.r.t. (log p, log(q-1), log v)."""
    p, q, v = _unpack(theta)
    xu, wu = d.x_u, d.w_u
    W = float(wu.sum())
    pxq = p * xu + q
    ll = float(wu @ (gammaln(pxq) - gammaln(p * xu))) - W * gammaln(q) + W * q * np.log(v)
    ll += p * d.s_wxlogm - d.s_wlogm + p * d.s_wxlogx

    def part(sl: slice) -> tuple[float, float, float, float]:
        xmv = d.xm[sl] + v
        lxmv = np.log(xmv)
        inv = np.reciprocal(xmv, out=xmv)
        wx, w = d.wx[sl], d.w[sl]
        return vdot(wx, lxmv), vdot(w, lxmv), vdot(wx, inv), vdot(w, inv)

    s_wx_l, s_w_l, s_wx_inv, s_w_inv = (sum(col) for col in zip(*chunked_map(part, len(d.w))))
    ll -= p * s_wx_l + q * s_w_l
    psi_pxq = digamma(pxq)
    g_p = float((wu * xu) @ (psi_pxq - digamma(p * xu))) + d.s_wxlogm + d.s_wxlogx - s_wx_l
    g_q = float(wu @ psi_pxq) - W * digamma(q) + W * np.log(v) - s_w_l
    g_v = W * q / v - (p * s_wx_inv + q * s_w_inv)
    grad = np.array([g_p * p, g_q * (q - 1.0), g_v * v])
    return ll, grad


def _usable_rows(x: FloatArray, m: FloatArray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.isfinite(x) & (x > 0) & (x == np.floor(x)) & np.isfinite(m) & (m > 0)


def _not_fitted(message: str, **kw: object) -> GammaGammaFit:
    nan = float("nan")
    return GammaGammaFit(p=nan, q=nan, v=nan, log_likelihood=nan, converged=False, message=message, **kw)  # type: ignore[arg-type]


def gamma_gamma_log_likelihood(
    frequency: ArrayLike, monetary: ArrayLike, p: float, q: float, v: float, weights: ArrayLike | None = None
) -> float:
    """Total log-likelihood of the customers with frequency > 0 and monetary > 0."""
    x = as_float_array(frequency, "frequency")
    m = as_float_array(monetary, "monetary")
    w = coerce_weights(weights, check_same_length(frequency=x, monetary=m))
    keep = _usable_rows(x, m)
    d = _GGData.build(x[keep], m[keep], w[keep])
    return _loglik_and_grad(np.array([np.log(p), np.log(q - 1.0), np.log(v)]), d)[0]


@blas_single_threaded
def fit_gamma_gamma(
    frequency: ArrayLike,
    monetary: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    penalizer: float = 0.0,
    min_customers: int = MIN_CUSTOMERS,
) -> GammaGammaFit:
    """Maximum-likelihood Gamma-Gamma fit.

    Uses only customers with ``frequency > 0`` (integer) and a finite ``monetary > 0``:
    the model describes the mean value of *repeat* transactions (the domain's
    ``monetary`` leaves the first purchase day out, so one-time buyers have none), and
    a mean of Gamma-distributed values is positive.  Everyone else counts in
    ``n_excluded`` and still gets a prediction from :func:`gamma_gamma_expected_spend`.

    Money is rescaled by its weighted mean for conditioning; (log p, log(q-1), log v)
    are optimised by L-BFGS-B with an analytic gradient (above 200,000 customers:
    warm start on every k-th customer, then Newton steps on all).  Standard errors
    come from the finite-difference Hessian of the log-likelihood at the optimum.  ``penalizer`` adds
    ``penalizer * (p^2 + q^2 + v_scaled^2)`` to the mean negative log-likelihood (as
    lifetimes' ``penalizer_coef``); default 0.

    Never raises on data: fewer than ``min_customers`` usable customers, identical
    values (no heterogeneity to estimate) or a non-identified optimum give
    ``converged=False`` with NaN parameters and the reason in ``message``.
    """
    x = as_float_array(frequency, "frequency")
    m = as_float_array(monetary, "monetary")
    n = check_same_length(frequency=x, monetary=m)
    w = coerce_weights(weights, n)
    keep = _usable_rows(x, m) & np.isfinite(w) & (w > 0)
    x, m, w = x[keep], m[keep], w[keep]
    total_weight = float(w.sum())
    info = {"n_customers": len(x), "total_weight": total_weight, "n_excluded": int(n - len(x)), "penalizer": penalizer}
    if total_weight < min_customers:
        return _not_fitted(
            "too few repeat customers with positive monetary value to fit Gamma-Gamma: "
            f"{total_weight:g} < minimum {min_customers}",
            **info,
        )
    scale = float(w @ m) / total_weight
    data = _GGData.build(x, m / scale, w)
    W = total_weight

    def penalty(theta: FloatArray) -> tuple[float, FloatArray]:
        p, q, v = _unpack(theta)
        return penalizer * (p * p + q * q + v * v), 2.0 * penalizer * np.array([p * p, q * (q - 1.0), v * v])

    def make_objective(d: _GGData) -> Callable[[FloatArray], tuple[float, FloatArray]]:
        def objective(theta: FloatArray) -> tuple[float, FloatArray]:
            ll, g = _loglik_and_grad(theta, d)
            pen, pen_g = penalty(theta)
            return -ll / W + pen, -g / W + pen_g

        return objective

    objective = make_objective(data)
    warm_objective = None
    if len(data.w) > 4 * _WARM_START_ROWS:  # large data: warm start on a thinned copy
        step = len(data.w) // _WARM_START_ROWS
        warm_objective = make_objective(_GGData.build(x[::step], m[::step] / scale, w[::step] * step))

    def check(opt: OptimResult) -> tuple[FloatArray | None, str]:
        # Hessian of the total log-likelihood in the optimised coordinates: standard
        # errors, and the identification check (positive definite, finite SEs)
        neg_grad = lambda th: -_loglik_and_grad(th, data)[1]
        hess = numerical_hessian(neg_grad, opt.x, grad_at_x=W * (opt.grad - penalty(opt.x)[1]))
        cov, cov_reason = log_space_standard_errors(hess)
        return cov, check_identified(opt.x, ("p", "q-1", "v"), opt, cov, cov_reason)

    # start: p = 1, q = 2 and v matching the mean (mean = p v / (q - 1) = 1 after scaling)
    opt = optimise_log_params(objective, np.zeros(3), warm_objective)
    cov, problem = check(opt)
    if problem:
        opt2 = minimize_log_params(objective, [np.array([np.log(5.0), np.log(2.0), np.log(0.6)])])
        cov2, problem2 = check(opt2)
        if not problem2 or opt2.fun < opt.fun - 1e-12:
            opt, cov, problem = opt2, cov2, problem2
    p, q, v_s = _unpack(opt.x)
    v = v_s * scale
    info["iterations"] = opt.iterations
    if problem:
        if opt.x[1] <= -LOG_PARAM_BOUND + 0.1:
            problem = "q <= 1: the population mean spend p v / (q - 1) would be infinite; " + problem
        return _not_fitted(problem + f"; last estimate p={p:.4g}, q={q:.4g}, v={v:.4g}", **info)
    assert cov is not None
    # back to the caller's currency: the density of m = scale * m' is f'(m') / scale
    ll = -W * (opt.fun - penalty(opt.x)[0]) - W * np.log(scale)
    se_log = np.sqrt(np.diag(cov))
    ses = {"p": p * se_log[0], "q": (q - 1.0) * se_log[1], "v": v * se_log[2]}
    return GammaGammaFit(
        p=p,
        q=q,
        v=v,
        log_likelihood=float(ll),
        converged=True,
        message="converged",
        standard_errors={k: float(val) for k, val in ses.items()},
        log_covariance=tuple(tuple(float(c) for c in row) for row in cov),
        **info,  # type: ignore[arg-type]
    )


def expected_spend_raw(x: FloatArray, m: FloatArray, p: float, q: float, v: float) -> FloatArray:
    m_used = np.where(x > 0, np.maximum(np.nan_to_num(m, nan=0.0), 0.0), 0.0)
    return p * (v + x * m_used) / (p * x + q - 1.0)


def spend_validity(x: FloatArray, m: FloatArray) -> tuple[np.ndarray, np.ndarray]:
    """Rows :func:`gamma_gamma_expected_spend` can score, and reasons for the others:
    frequency must be a finite non-negative integer; a repeat customer's monetary must
    be finite (any sign)."""
    with np.errstate(invalid="ignore"):
        bad_x = ~np.isfinite(x) | (x < 0) | (x != np.floor(x))
        bad_m = ~bad_x & (x > 0) & ~np.isfinite(m)
    reasons = np.full(len(x), None, dtype=object)
    reasons[bad_m] = "invalid input: monetary missing for a repeat customer"
    reasons[bad_x] = "invalid input: frequency missing, negative or not an integer"
    return ~(bad_x | bad_m), reasons


def gamma_gamma_expected_spend(frequency: ArrayLike, monetary: ArrayLike, fit: GammaGammaFit) -> FloatArray:
    """Conditional expected average transaction value E[M | x, m] = p (v + x m)/(p x + q - 1).

    One-time buyers (x = 0) get the population mean p v / (q - 1); their ``monetary``
    is ignored and may be missing.  A repeat customer with monetary <= 0 (net refunds)
    is outside the model's support; it is scored with m = 0, the formula's limit as
    m -> 0+, i.e. the population mean shrunk by (q-1)/(p x + q - 1) -- positive, and
    lower the more repeat days back the zero.

    Raises :class:`ModelNotFittedError` for a non-converged fit and ``ValueError`` for
    invalid rows (see :func:`spend_validity`).
    """
    p, q, v = fit.require_fitted()
    x = as_float_array(frequency, "frequency")
    m = as_float_array(monetary, "monetary")
    n = check_same_length(frequency=x, monetary=m)
    valid, reasons = spend_validity(x, m)
    if not valid.all():
        i = int(np.argmin(valid))
        raise ValueError(f"{int((~valid).sum())} of {n} rows are invalid, e.g. row {i}: {reasons[i]}")
    return expected_spend_raw(x, m, p, q, v)
