"""Pareto/NBD model: Schmittlein, Morrison & Colombo (1987), "Counting Your Customers:
Who Are They and What Will They Do Next?", Management Science 33(1), 1-24; likelihood,
P(alive) and conditional expectation as in Fader & Hardie (2005), "A Note on Deriving
the Pareto/NBD Model and Related Expressions", and Fader, Hardie & Lee (2005), "A Note on
Implementing the Pareto/NBD Model in MATLAB" (their CDNOW estimates).

While alive a customer buys at Poisson rate ``lambda ~ Gamma(r, alpha)`` and dies at an
exponential time of rate ``mu ~ Gamma(s, beta)`` (alpha and beta in weeks).  For a
customer with history (x, t_x, T) the individual likelihood is
``lambda^x e^-(lambda+mu)T + lambda^x mu/(lambda+mu) (e^-(lambda+mu)t_x - e^-(lambda+mu)T)``;
written as ``lambda^x mu/(lambda+mu) e^-(lambda+mu)t_x + lambda^(x+1)/(lambda+mu) e^-(lambda+mu)T``
(two positive terms, no difference) and with ``1/(lambda+mu) = int_0^inf e^-(lambda+mu)v dv``,
the mixture over lambda and mu is::

    L = Gamma(r+x) alpha^r beta^s / Gamma(r) * [ s J(t_x; r+x, s+1) + (r+x) J(T; r+x+1, s) ]

    J(tau; p, q) = int_tau^inf (alpha+u)^-p (beta+u)^-q du

the same expression as the MATLAB note's (there the bracket is (alpha+T)^-(r+x)
(beta+T)^-s + s/(r+s+x) A_0 with A_0 a *difference* of two Gauss hypergeometric terms,
which cancels catastrophically when t_x is near T).  With M = max(alpha, beta),
m = min, e_M and e_m the matching exponents, a = p + q - 1 = r + s + x and
z = (M - m)/(M + tau) in [0, 1) (the note's choice of the convergent form for
alpha >= beta and alpha < beta), Euler's transformation gives::

    J = (M+tau)^-e_M (m+tau)^(1-e_m) / a * 2F1(1, e_M; a+1; z)

whose series has positive terms, each at most z times the previous.  It is summed with
the derivatives of every term (analytic gradients) for z <= 0.9.  Beyond (alpha and
beta an order of magnitude apart and tau small) J is integrated in y = log(m + u),
where the integrand is log-concave (:mod:`customer_value.clv._quadrature`), or, for the
many rows of one x, chained along tau from such a row by short Gauss-Legendre stretches
(:func:`log_tail_integral`).  scipy's ``hyp2f1`` is not used: it returns NaN or inf in
parts of this parameter space.

P(alive | x, t_x, T) = (alpha+T)^-(r+x) (beta+T)^-s / [s J(t_x) + (r+x) J(T)], and given
alive lambda ~ Gamma(r+x, alpha+T), mu ~ Gamma(s, beta+T), so the expected purchases in
(T, T+t] are P(alive) (r+x)/(alpha+T) (beta+T) [1 - ((beta+T)/(beta+T+t))^(s-1)]/(s-1).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np
from numpy.polynomial.legendre import leggauss
from numpy.typing import ArrayLike, NDArray
from scipy.special import digamma, exprel, gammaln

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
    fit_purchase_model,
    purchases_by_period,
    repeat_purchase_histogram,
    validated_counts_and_times,
    validated_horizon,
    validated_summary,
)
from ._quadrature import decreasing_root, log_concave_integral, segmented_log_cumsum

_PARAM_NAMES = ("r", "alpha", "s", "beta")
_WARM_START_ROWS = 50_000
#: above this z the hypergeometric series gives way to quadrature (series: <= ~400 terms)
_Z_SERIES = 0.9
_SERIES_MAX_TERMS = 100_000
#: a row's tail integral is chained from the next larger tau's when the integrand changes
#: by at most this many nats between the two and the stretch is at most this fraction of
#: the distance to the nearest singularity (8-point Gauss-Legendre then exact to ~1e-17)
_PIECE_MAX_LOG_CHANGE = 2.0
_PIECE_MAX_REACH = 0.25
_PIECE_X, _PIECE_W = leggauss(8)
#: series over at least this many rows run in threads (tens of terms per row)
_PARALLEL_SERIES_ROWS = 4096


@dataclass(frozen=True)
class ParetoNbdFit(PurchaseFitFields):
    """Result of :func:`fit_paretonbd`; the same fields and guarantees as
    :class:`customer_value.clv.BgNbdFit`, with the dropout parameters s and beta (the
    Gamma shape and rate, beta in weeks, of the customers' death rates) for a and b."""

    r: float
    alpha: float
    s: float
    beta: float

    PARAM_NAMES: ClassVar[tuple[str, ...]] = _PARAM_NAMES
    MODEL_LABEL: ClassVar[str] = "Pareto/NBD"


# --------------------------------------------------------------------------- tail integrals


@dataclass(frozen=True)
class TailIntegral:
    """log J(tau; e_alpha, e_beta) = log int_tau^inf (alpha+u)^-e_alpha (beta+u)^-e_beta du
    per row, and its partial derivatives (None when not asked for)."""

    log: FloatArray
    d_e_alpha: FloatArray | None = None
    d_e_beta: FloatArray | None = None
    d_alpha: FloatArray | None = None
    d_beta: FloatArray | None = None


def _hypergeometric_series(
    e_M: FloatArray, c: FloatArray, z: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """``2F1(1, e_M; c; z) = sum_k (e_M)_k / (c)_k z^k`` (0 < e_M < c, 0 <= z < 1) and its
    derivatives with respect to e_M, c and z, summed term by term.

    Term k+1 is term k times z (e_M + k)/(c + k) < z; a row stops once its term times k
    is below 1e-17 (1-z)^2 of the sum, which bounds what is left of all four sums.  Rows
    that have stopped leave the working arrays (checked every few terms), so the cost
    follows the slowest rows only.
    """
    n = len(z)
    phi, d_b, d_c, d_z = np.ones(n), np.zeros(n), np.zeros(n), np.zeros(n)
    rows = np.arange(n)
    b_, c_, z_ = (np.asarray(v, dtype=np.float64) for v in (e_M, c, z))
    tol = 1e-17 * (1.0 - z_) ** 2
    term, h_b, h_c = np.ones(n), np.zeros(n), np.zeros(n)
    s_phi, s_b, s_c, s_z = np.ones(n), np.zeros(n), np.zeros(n), np.zeros(n)
    for k in range(_SERIES_MAX_TERMS):
        if not len(rows):
            break
        b_k, c_k = b_ + k, c_ + k
        h_b += 1.0 / b_k  # sum_{j<=k} 1/(e_M + j): d log (e_M)_{k+1} / d e_M
        h_c += 1.0 / c_k
        q = term * b_k
        q /= c_k  # term k+1 without its last factor z
        term = q * z_
        s_phi += term
        s_b += term * h_b
        s_c += term * h_c
        q *= k + 1.0
        s_z += q
        if k % 4 == 3:
            done = term * (k + 1.0) <= tol * s_phi
            if done.any():
                idx = rows[done]
                phi[idx], d_b[idx], d_c[idx], d_z[idx] = s_phi[done], s_b[done], -s_c[done], s_z[done]
                keep = ~done
                rows, b_, c_, z_, tol = rows[keep], b_[keep], c_[keep], z_[keep], tol[keep]
                term, h_b, h_c = term[keep], h_b[keep], h_c[keep]
                s_phi, s_b, s_c, s_z = s_phi[keep], s_b[keep], s_c[keep], s_z[keep]
    if len(rows):  # pragma: no cover - z <= _Z_SERIES needs far fewer terms
        phi[rows], d_b[rows], d_c[rows], d_z[rows] = s_phi, s_b, -s_c, s_z
    return phi, d_b, d_c, d_z


def _col(v: FloatArray, y: FloatArray) -> FloatArray:
    """Per-row values ``v`` shaped to broadcast against ``y`` ((n,) or (n, k))."""
    return v if y.ndim == 1 else v[:, None]


def _tail_by_quadrature(
    tau: FloatArray, e_m: FloatArray, e_M: FloatArray, m: float, M: float
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """log J and d/d(e_m, e_M, m, M) by quadrature in y = log(m+u), where the integrand
    (m+u)^(1-e_m) (M+u)^-e_M = exp((1-e_m) y - e_M log(delta + e^y)) is log-concave."""
    delta = M - m
    log_delta = np.log(delta)
    a = e_m + e_M - 1.0
    y0 = np.log(m + tau)

    def log_h(y: FloatArray) -> FloatArray:
        return (1.0 - e_m) * y - e_M * np.logaddexp(log_delta, y)

    def at_nodes(y: FloatArray) -> tuple[FloatArray, list[FloatArray]]:
        log_m_plus_delta = np.logaddexp(log_delta, y)  # log(M + u)
        log_values = (1.0 - e_m)[:, None] * y - e_M[:, None] * log_m_plus_delta
        return log_values, [y, log_m_plus_delta, np.exp(-log_m_plus_delta)]

    with np.errstate(divide="ignore", invalid="ignore"):
        y_star = np.where(e_m < 1.0, log_delta + np.log((1.0 - e_m) / a), -np.inf)
    log_j, (mean_y, mean_log, mean_inv) = log_concave_integral(
        log_h, y0, np.full(len(y0), np.inf), np.maximum(y0, y_star), at_nodes
    )
    d_delta = -e_M * mean_inv
    d_y0 = -np.exp(log_h(y0) - log_j)  # lower limit: -h(y0) / J
    return log_j, -mean_y, -mean_log, -d_delta + d_y0 / (m + tau), d_delta


def _direct_tail_integral(
    tau: FloatArray, e_alpha: FloatArray, e_beta: FloatArray, alpha: float, beta: float, gradient: bool
) -> TailIntegral:
    """:func:`log_tail_integral` row by row: the series for z <= 0.9, quadrature beyond."""
    swapped = alpha < beta
    M, m = (beta, alpha) if swapped else (alpha, beta)
    e_M, e_m = (e_beta, e_alpha) if swapped else (e_alpha, e_beta)
    a = e_m + e_M - 1.0
    M_tau, m_tau = M + tau, m + tau
    z = (M - m) / M_tau
    log_j = np.empty(len(tau))
    d_em, d_eM, d_m, d_M = (np.empty(len(tau)) for _ in range(4))
    series = z <= _Z_SERIES
    if series.any():
        s_ = series
        b_s, c_s, z_s = e_M[s_], a[s_] + 1.0, z[s_]
        # rows are independent: chunks of them in threads (any split gives the same numbers)
        chunks = chunked_map(
            lambda sl: _hypergeometric_series(b_s[sl], c_s[sl], z_s[sl]), len(z_s), min_rows=_PARALLEL_SERIES_ROWS
        )
        phi, phi_b, phi_c, phi_z = (np.concatenate(col) for col in zip(*chunks))
        Mt, mt = M_tau[s_], m_tau[s_]
        log_j[s_] = -e_M[s_] * np.log(Mt) + (1.0 - e_m[s_]) * np.log(mt) - np.log(a[s_]) + np.log(phi)
        if gradient:
            rho = mt / Mt
            dz = phi_z / phi
            d_m[s_] = (1.0 - e_m[s_]) / mt - dz / Mt
            d_M[s_] = (rho * dz - e_M[s_]) / Mt
            d_em[s_] = -np.log(mt) - 1.0 / a[s_] + phi_c / phi
            d_eM[s_] = -np.log(Mt) - 1.0 / a[s_] + (phi_b + phi_c) / phi
    quad = ~series
    if quad.any():
        q_ = quad
        log_j[q_], d_em[q_], d_eM[q_], d_m[q_], d_M[q_] = _tail_by_quadrature(tau[q_], e_m[q_], e_M[q_], m, M)
    if not gradient:
        return TailIntegral(log_j)
    if swapped:
        return TailIntegral(log_j, d_e_alpha=d_em, d_e_beta=d_eM, d_alpha=d_m, d_beta=d_M)
    return TailIntegral(log_j, d_e_alpha=d_eM, d_e_beta=d_em, d_alpha=d_M, d_beta=d_m)


def _two_tail_integrals(
    g_x: FloatArray,
    t_x: FloatArray,
    h_x: FloatArray,
    T: FloatArray,
    r: float,
    alpha: float,
    s: float,
    beta: float,
    gradient: bool,
) -> tuple[TailIntegral, TailIntegral]:
    """The likelihood's J(t_x; r+x, s+1) on (x, t_x) pairs and J(T; r+x+1, s) on (x, T)
    pairs, in one call (one set of threads)."""
    n = len(t_x)
    both = log_tail_integral(
        np.concatenate([t_x, T]),
        np.concatenate([r + g_x, r + h_x + 1.0]),
        np.concatenate([np.full(n, s + 1.0), np.full(len(T), s)]),
        alpha,
        beta,
        gradient=gradient,
    )
    parts = [(None if v is None else v[:n], None if v is None else v[n:]) for v in _tail_fields(both)]
    return TailIntegral(*(p[0] for p in parts)), TailIntegral(*(p[1] for p in parts))  # type: ignore[arg-type]


def _tail_fields(j: TailIntegral) -> tuple[FloatArray | None, ...]:
    return (j.log, j.d_e_alpha, j.d_e_beta, j.d_alpha, j.d_beta)


def log_tail_integral(
    tau: FloatArray, e_alpha: FloatArray, e_beta: FloatArray, alpha: float, beta: float, gradient: bool = True
) -> TailIntegral:
    """``log J(tau) = log int_tau^inf (alpha+u)^-e_alpha (beta+u)^-e_beta du`` per row
    (e_alpha, e_beta > 0 with e_alpha + e_beta > 1; tau >= 0), and with ``gradient`` its
    derivatives with respect to e_alpha, e_beta, alpha and beta.

    Rows with z <= 0.9 are summed as the hypergeometric series
    (:func:`_direct_tail_integral`).  Beyond, where that would take quadrature (slow,
    hundreds of points per row), rows with the same exponents (the same x) share one
    integrand and differ only in where the tail starts: sorted by tau, each row's
    integral is the next larger tau's plus the integral between the two, which over a
    short stretch (the integrand changing by at most e^2, far from its singularities at
    -alpha and -beta) is an 8-point Gauss-Legendre sum exact to double precision.  Each
    chain starts from a row computed in full (the largest tau of its exponents, a
    series row, or a row whose stretch is too long or too steep); the chains are summed
    in log space (:func:`customer_value.clv._quadrature.segmented_log_cumsum`),
    derivatives included.  Fits whose alpha and beta drift far apart (degenerate data)
    stay fast that way.
    """
    tau, e_alpha, e_beta = (np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(tau, e_alpha, e_beta))
    n = len(tau)
    order = np.lexsort((-tau, e_beta, e_alpha))  # by exponents, tau descending within
    ts, ea, eb = tau[order], e_alpha[order], e_beta[order]
    new_pair = np.r_[True, (ea[1:] != ea[:-1]) | (eb[1:] != eb[:-1])] if n else np.zeros(0, dtype=bool)
    upper = np.r_[np.inf, ts[:-1]] if n else ts  # the stretch of row i: [ts[i], ts[i-1]]
    length = upper - ts
    with np.errstate(invalid="ignore"):
        change = ea * np.log1p(length / (alpha + ts)) + eb * np.log1p(length / (beta + ts))
        short = (change <= _PIECE_MAX_LOG_CHANGE) & (length <= _PIECE_MAX_REACH * (min(alpha, beta) + ts))
    series = abs(alpha - beta) / (max(alpha, beta) + ts) <= _Z_SERIES
    anchor = new_pair | ~short | series
    full = _direct_tail_integral(ts[anchor], ea[anchor], eb[anchor], alpha, beta, gradient)
    fields: list[FloatArray | None] = [np.empty(n) for _ in range(5 if gradient else 1)]
    piece = ~anchor
    if not piece.any():  # every row computed in full
        for out, column in zip(fields, _tail_fields(full)):
            out[order] = column  # type: ignore[index]
        return TailIntegral(*fields)  # type: ignore[arg-type]
    columns = 5 if gradient else 1
    values = np.empty((n, columns))
    values[anchor] = np.column_stack([v for v in _tail_fields(full) if v is not None])
    log_piece, piece_means = _stretch_integrals(ts[piece], upper[piece], ea[piece], eb[piece], alpha, beta)
    values[piece, 0] = log_piece
    if gradient:
        values[piece, 1:] = np.column_stack(piece_means)
    # chains: an anchor and the pieces after it; anchors with no piece after them stand alone
    chained = piece | np.r_[piece[1:], False]
    chain = values[chained]
    if gradient:
        # sums of value x d log value: positive and negative parts summed in log space
        slopes = chain[:, 1:]
        with np.errstate(divide="ignore"):
            log_abs = chain[:, :1] + np.log(np.abs(slopes))
        chain = np.column_stack(
            [chain[:, 0], np.where(slopes > 0, log_abs, -np.inf), np.where(slopes < 0, log_abs, -np.inf)]
        )
    sums = segmented_log_cumsum(chain, anchor[chained])
    values[chained, 0] = sums[:, 0]
    if gradient:
        values[chained, 1:] = np.exp(sums[:, 1:5] - sums[:, :1]) - np.exp(sums[:, 5:9] - sums[:, :1])
    for out, column in zip(fields, values.T):
        out[order] = column  # type: ignore[index]
    return TailIntegral(*fields)  # type: ignore[arg-type]


def _stretch_integrals(
    lo: FloatArray, hi: FloatArray, e_alpha: FloatArray, e_beta: FloatArray, alpha: float, beta: float
) -> tuple[FloatArray, list[FloatArray]]:
    """log int_lo^hi (alpha+u)^-e_alpha (beta+u)^-e_beta du by 8-point Gauss-Legendre on
    short stretches, and the integrand-weighted means of its log-derivatives with respect
    to e_alpha, e_beta, alpha and beta."""
    half = 0.5 * (hi - lo)
    u = (lo + half)[:, None] + half[:, None] * _PIECE_X[None, :]
    log_a, log_b = np.log(alpha + u), np.log(beta + u)
    log_f = -e_alpha[:, None] * log_a - e_beta[:, None] * log_b
    top = log_f[:, 0]  # the integrand falls with u: largest at the first node
    weighted = _PIECE_W[None, :] * np.exp(log_f - top[:, None])
    total = weighted.sum(axis=1)
    with np.errstate(divide="ignore"):
        log_integral = top + np.log(total * half)
    means = [
        -(weighted * log_a).sum(axis=1) / total,
        -(weighted * log_b).sum(axis=1) / total,
        -e_alpha * (weighted / (alpha + u)).sum(axis=1) / total,
        -e_beta * (weighted / (beta + u)).sum(axis=1) / total,
    ]
    return log_integral, means


# --------------------------------------------------------------------------- likelihood


@dataclass(frozen=True)
class _LikelihoodData:
    """Sufficient statistics for the Pareto/NBD likelihood.

    The two tail integrals depend on (x, t_x) and on (x, T) only, so they are evaluated
    once per distinct pair (a few ten thousand pairs at a million customers); only the
    log-sum of the two terms is per distinct (x, t_x, T) combination.
    """

    x_tab: FloatArray  # distinct x
    w_x: FloatArray  # weight per distinct x
    g_x: FloatArray  # distinct (x, t_x) pairs
    g_t: FloatArray
    h_x: FloatArray  # distinct (x, T) pairs
    h_T: FloatArray
    gi: NDArray[np.int64]  # per combination: its (x, t_x) pair, its (x, T) pair, weight
    hi: NDArray[np.int64]
    w: FloatArray

    @property
    def total_weight(self) -> float:
        return float(self.w_x.sum())

    @property
    def n_rows(self) -> int:
        return len(self.w)

    def scaled(self, s: float) -> _LikelihoodData:
        return replace(self, g_t=self.g_t / s, h_T=self.h_T / s)


def _sufficient_statistics(
    x: FloatArray, t_x: FloatArray, T: FloatArray, w: FloatArray | None
) -> tuple[_LikelihoodData, int]:
    dr = distinct_rows([x, t_x, T], weights=w)
    xv, tv, Tv = dr.values(0), dr.values(1), dr.values(2)
    pairs_t = distinct_rows([xv, tv], return_inverse=True)
    pairs_T = distinct_rows([xv, Tv], return_inverse=True)
    assert pairs_t.inverse is not None and pairs_T.inverse is not None
    data = _LikelihoodData(
        x_tab=dr.tables[0],
        w_x=bincount_f64(dr.codes[0], dr.weight, len(dr.tables[0])),
        g_x=pairs_t.values(0),
        g_t=pairs_t.values(1),
        h_x=pairs_T.values(0),
        h_T=pairs_T.values(1),
        gi=pairs_t.inverse,
        hi=pairs_T.inverse,
        w=dr.weight,
    )
    return data, len(dr)


def _loglik_and_grad(theta: FloatArray, d: _LikelihoodData) -> tuple[float, FloatArray]:
    """Total weighted log-likelihood and its gradient w.r.t. log(r, alpha, s, beta)."""
    r, alpha, s, beta = np.exp(theta)
    used = d.w_x > 0
    x, wx = d.x_tab[used], d.w_x[used]
    W = float(wx.sum())
    # log of Gamma(r+x) alpha^r beta^s / Gamma(r)
    ll = float(wx @ gammaln(r + x)) + W * (r * np.log(alpha) + s * np.log(beta) - gammaln(r))
    g_r = float(wx @ digamma(r + x)) + W * (np.log(alpha) - digamma(r))
    g_alpha = W * r / alpha
    g_s = W * np.log(beta)
    g_beta = W * s / beta

    # bracket: s J(t_x; r+x, s+1) + (r+x) J(T; r+x+1, s), log-summed per combination
    jg, jh = _two_tail_integrals(d.g_x, d.g_t, d.h_x, d.h_T, r, alpha, s, beta, gradient=True)
    first = np.log(s) + jg.log
    second = np.log(r + d.h_x) + jh.log

    def part(sl: slice) -> tuple[float, FloatArray, FloatArray]:
        gi, hi, w = d.gi[sl], d.hi[sl], d.w[sl]
        A, B = first[gi], second[hi]
        diff = B - A
        e = np.exp(-np.abs(diff))
        one_e = 1.0 + e
        lse = np.maximum(A, B) + np.log(one_e)
        w_second = w * np.where(diff >= 0.0, 1.0, e) / one_e  # weight x share of the second term
        return vdot(w, lse), bincount_f64(gi, w - w_second, len(first)), bincount_f64(hi, w_second, len(second))

    parts = chunked_map(part, len(d.w))
    ll += sum(p[0] for p in parts)
    WG = sum(p[1] for p in parts)
    WH = sum(p[2] for p in parts)
    assert jg.d_e_alpha is not None and jg.d_e_beta is not None and jg.d_alpha is not None and jg.d_beta is not None
    assert jh.d_e_alpha is not None and jh.d_e_beta is not None and jh.d_alpha is not None and jh.d_beta is not None
    g_r += float(WG @ jg.d_e_alpha) + float(WH @ (jh.d_e_alpha + 1.0 / (r + d.h_x)))
    g_alpha += float(WG @ jg.d_alpha) + float(WH @ jh.d_alpha)
    g_s += float(WG @ (jg.d_e_beta + 1.0 / s)) + float(WH @ jh.d_e_beta)
    g_beta += float(WG @ jg.d_beta) + float(WH @ jh.d_beta)
    return ll, np.array([g_r * r, g_alpha * alpha, g_s * s, g_beta * beta])


def paretonbd_log_likelihood(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    r: float,
    alpha: float,
    s: float,
    beta: float,
    weights: ArrayLike | None = None,
) -> float:
    """Total (weighted) Pareto/NBD log-likelihood of a summary at given parameters."""
    x, t_x, Ta = validated_summary(frequency, recency, T)
    w = None if weights is None else coerce_weights(weights, len(x))
    d, _ = _sufficient_statistics(x, t_x, Ta, w)
    return _loglik_and_grad(np.log([r, alpha, s, beta]), d)[0]


# --------------------------------------------------------------------------- fit


def _starts(rate: float) -> tuple[FloatArray, list[FloatArray]]:
    """Log-parameter starts on the rescaled time axis (max T = 10): purchase rates r/alpha
    at the observed rate, lifetimes of the order of the observation window; two spares."""
    rate = max(rate, 1e-6)
    first = np.log([1.0, 1.0 / rate, 1.0, 10.0])
    return first, [np.log([0.3, 0.3 / rate, 0.3, 3.0]), np.log([3.0, 3.0 / rate, 3.0, 30.0])]


_LIKELIHOOD = PurchaseLikelihood[_LikelihoodData](
    label="Pareto/NBD",
    names=_PARAM_NAMES,
    time_params=(False, True, False, True),
    statistics=_sufficient_statistics,
    loglik_and_grad=_loglik_and_grad,
    starts=_starts,
)


@blas_single_threaded
def fit_paretonbd(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    penalizer: float = 0.0,
    min_customers: int = MIN_CUSTOMERS,
) -> ParetoNbdFit:
    """Maximum-likelihood Pareto/NBD fit: the procedure and guarantees of
    :func:`customer_value.clv.fit_bgnbd` (distinct-row collapsing, time rescaling,
    L-BFGS-B on log-parameters with the analytic gradient, warm start and Newton steps
    on large data, numerical-Hessian standard errors, ``converged=False`` and a
    ``message`` instead of an exception).  ``penalizer`` adds ``penalizer * (r^2 +
    alpha^2 + s^2 + beta^2)`` (alpha and beta on the rescaled time axis) to the mean
    negative log-likelihood."""
    return fit_purchase_model(
        _LIKELIHOOD,
        ParetoNbdFit,
        frequency,
        recency,
        T,
        weights,
        penalizer=penalizer,
        min_customers=min_customers,
        warm_start_rows=_WARM_START_ROWS,
    )


# --------------------------------------------------------------------------- predictions


def _log_bracket(
    x: FloatArray, t_x: FloatArray, T: FloatArray, r: float, alpha: float, s: float, beta: float
) -> FloatArray:
    """log[s J(t_x; r+x, s+1) + (r+x) J(T; r+x+1, s)] per customer, the tail integrals
    evaluated once per distinct (x, t_x) and (x, T)."""
    g = distinct_rows([x, t_x], return_inverse=True)
    h = distinct_rows([x, T], return_inverse=True)
    assert g.inverse is not None and h.inverse is not None
    jg, jh = _two_tail_integrals(g.values(0), g.values(1), h.values(0), h.values(1), r, alpha, s, beta, gradient=False)
    return np.logaddexp(np.log(s) + jg.log[g.inverse], np.log(r + x) + jh.log[h.inverse])


def probability_alive_raw(
    x: FloatArray, t_x: FloatArray, T: FloatArray, r: float, alpha: float, s: float, beta: float
) -> FloatArray:
    """P(alive at T | x, t_x, T) = (alpha+T)^-(r+x) (beta+T)^-s / [s J(t_x) + (r+x) J(T)]."""
    if len(x) == 0:
        return np.zeros(0)
    log_alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T) - _log_bracket(x, t_x, T, r, alpha, s, beta)
    return np.exp(np.minimum(log_alive, 0.0))


def _lifetime_integral(t: FloatArray, beta_T: FloatArray, s: float) -> FloatArray:
    """E[(1 - e^-mu t)/mu] for mu ~ Gamma(s, beta_T): int_0^t (beta_T/(beta_T+u))^s du =
    beta_T [(1 + t/beta_T)^(1-s) - 1]/(1-s), written as beta_T L exprel((1-s) L) with
    L = log(1 + t/beta_T) so that s = 1 (beta_T L) and s near 1 are exact."""
    L = np.log1p(t / beta_T)
    return beta_T * L * exprel((1.0 - s) * L)


def expected_if_alive(
    t: FloatArray, x: FloatArray, T: FloatArray, r: float, alpha: float, s: float, beta: float
) -> FloatArray:
    """E[purchases in (T, T+t] | alive at T, x, T] = (r+x)/(alpha+T) E[(1 - e^-mu t)/mu]
    with mu ~ Gamma(s, beta+T): lambda and mu are independent given alive."""
    return (r + x) / (alpha + T) * _lifetime_integral(t, beta + T, s)


def cumulative_if_alive_by_pair(
    x: FloatArray, T: FloatArray, period_ends: FloatArray, params: tuple[float, ...]
) -> tuple[np.ndarray, FloatArray]:
    """Cumulative E[purchases | alive] at each period end, on the distinct (x, T) pairs:
    ``(pair_index_per_row, matrix[n_pairs, n_periods])``."""
    dr = distinct_rows([x, T], return_inverse=True)
    assert dr.inverse is not None
    cum = expected_if_alive(period_ends[None, :], dr.values(0)[:, None], dr.values(1)[:, None], *params)
    return dr.inverse, np.maximum.accumulate(cum, axis=1)


def paretonbd_probability_alive(x: ArrayLike, t_x: ArrayLike, T: ArrayLike, fit: ParetoNbdFit) -> FloatArray:
    """P(customer still alive at T | x, t_x, T) (Fader & Hardie's note, eq. 36-37).

    Raises :class:`ModelNotFittedError` for a non-converged fit and ``ValueError`` for
    invalid rows (see :func:`customer_value.clv.bgnbd.summary_validity`)."""
    params = fit.require_fitted()
    xa, ta, Ta = validated_summary(x, t_x, T)
    return probability_alive_raw(xa, ta, Ta, *params)


def paretonbd_expected_purchases(
    t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike, fit: ParetoNbdFit
) -> FloatArray:
    """Conditional expected number of purchases in (T, T+t], t in weeks (Schmittlein et
    al. eq. 22; Fader & Hardie's note eq. 41): P(alive) (r+x)(beta+T)/((alpha+T)(s-1))
    [1 - ((beta+T)/(beta+T+t))^(s-1)], s = 1 included.  ``t`` is a scalar or one value
    per customer; the result is finite, >= 0 and 0 at t = 0."""
    params = fit.require_fitted()
    xa, ta, Ta = validated_summary(x, t_x, T)
    tt = validated_horizon(t, len(xa))
    return probability_alive_raw(xa, ta, Ta, *params) * expected_if_alive(tt, xa, Ta, *params)


def paretonbd_expected_purchases_by_period(
    x: ArrayLike, t_x: ArrayLike, T: ArrayLike, fit: ParetoNbdFit, period_ends_weeks: ArrayLike
) -> FloatArray:
    """Expected purchases per period, shape ``(n_customers, n_periods)``: column k is
    E[purchases in (T + end[k-1], T + end[k]]] with end[-1] = 0, as
    :func:`customer_value.clv.bgnbd_expected_purchases_by_period`."""
    return purchases_by_period(x, t_x, T, fit, period_ends_weeks, probability_alive_raw, cumulative_if_alive_by_pair)


# --------------------------------------------------------------------------- model fit


def _log_died_with_x(xa: FloatArray, ta: FloatArray, r: float, alpha: float, s: float, beta: float) -> FloatArray:
    """log int_0^t u^x (alpha+u)^-(r+x) (beta+u)^-(s+1) du (t > 0), by quadrature in
    y = log u, where the integrand exp((x+1) y - (r+x) log(alpha+e^y) - (s+1) log(beta+e^y))
    is log-concave."""
    la, lb = np.log(alpha), np.log(beta)

    def log_h(y: FloatArray) -> FloatArray:
        return _col(xa + 1.0, y) * y - _col(r + xa, y) * np.logaddexp(la, y) - (s + 1.0) * np.logaddexp(lb, y)

    def slope(y: FloatArray) -> FloatArray:
        return xa + 1.0 - (r + xa) / (1.0 + np.exp(la - y)) - (s + 1.0) / (1.0 + np.exp(lb - y))

    centre = np.full(len(xa), 0.5 * (la + lb))
    mode = decreasing_root(slope, centre - 1.0, centre + 1.0)
    log_t = np.log(ta)
    return log_concave_integral(log_h, np.full(len(xa), -np.inf), log_t, np.minimum(mode, log_t))[0]


def paretonbd_probability_of_purchases(x: ArrayLike, t: ArrayLike, fit: ParetoNbdFit) -> FloatArray:
    """P(X(t) = x): the probability that a customer drawn from the population makes
    exactly ``x`` repeat purchases in the ``t`` weeks after the first::

        P(X(t)=x) = NB(x; r, alpha/(alpha+t)) (beta/(beta+t))^s
                    + int_0^t NB(x; r, alpha/(alpha+u)) s beta^s (beta+u)^-(s+1) du

    ("alive at t with x purchases" plus "died at u < t with x purchases by then": the
    lifetime is Pareto(II) with density s beta^s (beta+u)^-(s+1)).  The integral is taken
    by quadrature on its log-concave integrand rather than through Schmittlein et al.'s
    closed form, whose finite sum of hypergeometric terms is subtracted from another and
    loses every digit when t is short.  ``x`` and ``t`` broadcast; P(X(0) = 0) = 1."""
    r, alpha, s, beta = fit.require_fitted()
    xa, ta = validated_counts_and_times(x, t)
    shape = xa.shape
    xa, ta = xa.ravel(), ta.ravel()
    out = np.where(xa == 0, 1.0, 0.0)
    pos = ta > 0
    if pos.any():
        xp, tp = xa[pos], ta[pos]
        log_nb_const = gammaln(r + xp) - gammaln(r) - gammaln(xp + 1.0) + r * np.log(alpha)
        log_alive = (
            log_nb_const + xp * np.log(tp) - (r + xp) * np.log(alpha + tp) + s * (np.log(beta) - np.log(beta + tp))
        )
        # the quadrature once per distinct (x, t)
        dr = distinct_rows([xp, tp], return_inverse=True)
        assert dr.inverse is not None
        log_died = _log_died_with_x(dr.values(0), dr.values(1), r, alpha, s, beta)[dr.inverse]
        log_died += log_nb_const + np.log(s) + s * np.log(beta)
        out[pos] = np.exp(np.logaddexp(log_alive, log_died))
    return np.minimum(out, 1.0).reshape(shape)


def paretonbd_expected_repeat_purchase_counts(T: ArrayLike, fit: ParetoNbdFit, max_frequency: int) -> FloatArray:
    """Expected number of customers with 0, 1, ..., ``max_frequency - 1`` and
    ``max_frequency`` or more repeat purchases in their own period ``T`` (weeks): the sum
    over customers of P(X(T_i) = x), the model-fit chart.  Sums to the number of customers."""
    return repeat_purchase_histogram(T, max_frequency, lambda x, t: paretonbd_probability_of_purchases(x, t, fit))
