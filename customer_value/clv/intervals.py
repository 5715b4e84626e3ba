"""Prediction intervals for CLV: the predictive distribution of purchases and of value.

Two parts.

**1. How many purchase days N a customer makes in the next t weeks** (:class:`CountMoments`:
P(N = 0), E[N], E[N^2]), from the posterior of the customer's latent traits given their
history (x repeat purchase days, T weeks observed) and given alive at T, combined with
P(alive at T) (an input: it needs t_x, and each model has its own formula):

* BG/NBD: lambda ~ Gamma(r + x, rate alpha + T), p ~ Beta(a, b + x), independent;
  N = min(K, J), K ~ Poisson(lambda t), J ~ Geometric(p) on {1, 2, ...}.
* MBG/NBD (Batislam, Denizel & Filiztekin 2007): the same with p ~ Beta(a, b + x + 1)
  (a customer alive at T has survived x + 1 drop-out chances, the first purchase's too).
* Pareto/NBD: lambda ~ Gamma(r + x, alpha + T), mu ~ Gamma(s, beta + T), lifetime beyond T
  tau ~ Exp(mu) (marginally Lomax); N ~ Poisson(lambda min(tau, t)).

Given alive, every quantity is an expectation over the two traits of a closed form:

* BG/NBD and MBG/NBD.  Integrating lambda out, K is negative binomial, so
  P(N = 0 | alive) = P(K = 0) = (1 + t/(alpha+T))^-(r+x) exactly.  Given p, with
  k = t/(alpha+T), R = r+x and E0 = (1 + p k)^-R (the chance of no purchase event in a
  process thinned by p), E[N | p] = (1 - E0)/p and
  E[N^2 | p] = [(2 - p)(1 - E0) - 2 (1 - p) R (pk/(1+pk)) E0] / p^2
  (from E[min(K, J)^2 | lambda, p] = [(2-p)(1-e^{-m}) - 2(1-p) m e^{-m}] / p^2 with
  m = lambda p t).  Both are analytic in p on [0, 1] (the p = 0 limits are E[K] and
  E[K^2]), so the Beta expectation is a Gauss quadrature with respect to the Beta(a, b')
  weight itself (Golub-Welsch on the Jacobi recurrence, nodes once per distinct b').
  16 nodes give ~1e-11 relative while k <= 1; the only nearby singularity is at
  p = -1/k, so larger k (short T, small alpha, long horizons) get more nodes
  (:func:`_nodes_for`).
  E[N] agrees with the paper's eq. 10 given alive
  (:func:`customer_value.clv.bgnbd.expected_if_alive`) to ~1e-13.
* Pareto/NBD.  With u = min(tau, t) and lambda integrated out, E[N | u] = R u/A and
  E[N^2 | u] = R u/A + R (R+1) u^2/A^2 (A = alpha+T), and the Lomax moments of u are closed
  forms.  P(N = 0 | alive) = E[(1 + u/A)^-R] is, by Hardie's integral of
  (A+y)^-a1 (B+y)^-b1, a difference of two Gauss hypergeometric functions 2F1(1, .; .; z)
  with 0 <= z < 1 (see :func:`_pareto_p_zero`); where scipy's hyp2f1 fails (z near 1 with
  large parameters) a graded composite Gauss-Legendre rule takes over.

**2. The value over the horizon** V = margin x sum_{k<=N} z_k x discount, with the
Gamma-Gamma posterior nu | x, m ~ Gamma(Q = q + p x, rate V' = v + x m) and
z_k | nu ~ Gamma(p, rate nu) (:func:`clv_value_distribution`):

* the atom P(V = 0) = P(N = 0) is exact, and so is the spend rate's posterior: V is
  V' G / nu' with nu' ~ Gamma(Q, 1) and G the sum of N Gamma(p, 1) draws;
* G given N >= 1 is a two-part mixture (customers who survive the horizon, whose count
  concentrates around their rate, and those who drop out during it, whose count spreads
  from 1 up), each part a Gamma with its exact first two moments; V | V > 0 is then a
  mixture of two scaled beta primes, whose quantiles come from Halley's method on the
  exact mixture CDF (level error < 1e-10);
* discounting: every purchase day is discounted by the customer's average factor,
  predicted CLV / undiscounted expected value (:func:`discount_ratio`);
* parameter uncertainty: the fits' log-covariances enter through sigma points (purchase
  model: the count distribution mixed over them, P(alive) re-evaluated at each when given
  as a function; Gamma-Gamma: a mean-one factor on the spend).

:func:`clv_intervals` turns it into (low, high): the central interval while P(0) < 10 %,
[0, q_80] while P(0) < 80 %, and [0, 0] beyond (which holds the value with probability
P(0) > 80 %: no interval containing any mass can hold less).  Measured accuracy and
coverage: docs/validation.md, "Intervals".
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import betainc, betaincinv, betaln, hyp2f1, log_expit, ndtri

from ._common import (
    CountMoments,
    FloatArray,
    as_float_array,
    blas_single_threaded,
    check_same_length,
    chunked_map,
    distinct_rows,
)

#: The purchase models and the order of their parameters (also the order of the rows
#: and columns of their ``log_covariance``: covariance of the log-parameters).
PURCHASE_MODELS: dict[str, tuple[str, ...]] = {
    "bg_nbd": ("r", "alpha", "a", "b"),
    "mbg_nbd": ("r", "alpha", "a", "b"),
    "pareto_nbd": ("r", "alpha", "s", "beta"),
}

_MAX_NODES = 2048


# --------------------------------------------------------------------------- quadrature


def _jacobi_matrix(a: float, b: FloatArray, n: int) -> tuple[FloatArray, FloatArray]:
    """Diagonal ``[len(b), n]`` and off-diagonal ``[len(b), n-1]`` of the Jacobi matrix of
    the monic polynomials orthogonal for the Beta(a, b_i) density on [0, 1].

    The Jacobi recurrence on [-1, 1] with weight (1-x)^(b-1) (1+x)^(a-1), mapped by
    p = (1+x)/2; the diagonal (1 + Jacobi diagonal)/2 is written in closed form,
    (2k^2 + 2k(s+1) + s a)/((2k+s)(2k+s+2)) with s = a + b - 2, so that nodes near 0
    (large b) keep their relative accuracy."""
    al, be = b - 1.0, a - 1.0
    s = (al + be)[:, None]
    k = np.arange(n, dtype=np.float64)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        diag = (2.0 * k * k + 2.0 * k * (s + 1.0) + s * (1.0 + be)) / ((2.0 * k + s) * (2.0 * k + s + 2.0))
    diag[:, 0] = a / (a + b)
    j = np.arange(1, n, dtype=np.float64)[None, :]
    A = al[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        off2 = (4.0 * j * (j + A) * (j + be) * (j + s)) / (
            (2.0 * j + s) ** 2 * (2.0 * j + s + 1.0) * (2.0 * j + s - 1.0)
        )
    if n > 1:  # j = 1: (j + s)/(2j + s - 1) = 1 exactly (0/0 when a + b = 1)
        s0 = s[:, 0]
        off2[:, 0] = 4.0 * (1.0 + al) * (1.0 + be) / ((2.0 + s0) ** 2 * (3.0 + s0))
    return diag, 0.5 * np.sqrt(off2)


@blas_single_threaded
def beta_gauss_rule(a: float, b: ArrayLike, n: int) -> tuple[FloatArray, FloatArray]:
    """Gauss quadrature for the Beta(a, b_i) distributions: ``nodes[i, j]`` and
    ``weights[i, j]`` (each row sums to 1), exact for polynomials of degree < 2n.

    Golub-Welsch: the nodes are the eigenvalues of the Jacobi matrix
    (:func:`_jacobi_matrix`), the weights the squared first components of its
    eigenvectors.  LAPACK on one BLAS thread, one matrix at a time (batched for n <= 64,
    scipy's tridiagonal solver above): a row's rule does not depend on the others.
    """
    b = np.atleast_1d(np.asarray(b, dtype=np.float64))
    diag, off = _jacobi_matrix(a, b, n)
    if n <= 64:
        jac = np.zeros((len(b), n, n))
        idx = np.arange(n)
        jac[:, idx, idx] = diag
        jac[:, idx[:-1], idx[1:]] = off
        jac[:, idx[1:], idx[:-1]] = off
        nodes, vectors = np.linalg.eigh(jac)
        weights = vectors[:, 0, :] ** 2
    else:
        from scipy.linalg import eigh_tridiagonal

        nodes = np.empty((len(b), n))
        weights = np.empty((len(b), n))
        for i in range(len(b)):
            nodes[i], vec = eigh_tridiagonal(diag[i], off[i])
            weights[i] = vec[0] ** 2
    return np.clip(nodes, 0.0, 1.0), weights / weights.sum(axis=1, keepdims=True)


def _nodes_for(k: FloatArray) -> np.ndarray:
    """Quadrature size per row from k = t/(alpha+T): 16 nodes while k <= 1, 24 to k = 2,
    32 to k = 4, then doubling with every doubling of k (at most 2048, k > 128).
    Measured against 4096 nodes (a from 0.1 to 3, x up to 1000): <= 1e-10 relative."""
    k = np.maximum(k, 0.0)
    doubling = 32 * 2.0 ** np.ceil(np.log2(np.maximum(k, 4.0) / 4.0))
    n = np.where(k <= 1.0, 16, np.where(k <= 2.0, 24, np.minimum(doubling, _MAX_NODES)))
    return n.astype(np.int64)


@dataclass(frozen=True)
class _CountParts:
    """Given alive at T, per row: P(N >= 1), E[N], E[N^2], and the same three restricted
    to the customers still alive at the end of the horizon ("survivors": for BG/NBD-type
    models J > K, for the Pareto/NBD tau > t): ``s_pos`` = P(N >= 1, survive),
    ``s1`` = E[N 1{survive}], ``s2`` = E[N^2 1{survive}].  The rest dropped out during
    the horizon.  Splitting the two keeps each part's count distribution unimodal."""

    p_pos: FloatArray
    m1: FloatArray
    m2: FloatArray
    s_pos: FloatArray
    s1: FloatArray
    s2: FloatArray

    def take(self, index: np.ndarray) -> _CountParts:
        return _CountParts(*(getattr(self, f)[index] for f in ("p_pos", "m1", "m2", "s_pos", "s1", "s2")))


def _thinned_moments(p: FloatArray, k: FloatArray, R: FloatArray) -> tuple[FloatArray, ...]:
    """At drop-out probability p, with lambda ~ Gamma(R, rate A) integrated out (k = t/A,
    E0 = (1+pk)^-R = E[(1-p)^K]):

    * E[N | p] = (1 - E0)/p;
    * E[N^2 | p] = [(2-p)(1-E0) - 2(1-p) R (1 - 1/(1+pk)) E0]/p^2;
    * P(J > K | p) = E0 (survives the horizon; K = 0 included);
    * E[K 1{J>K} | p] = R k (1-p) E0/(1+pk);
    * E[K^2 1{J>K} | p] = R(R+1) k^2 (1-p)^2 E0/(1+pk)^2 + E[K 1{J>K} | p].

    Where p k (R + 2) < 1e-5 (the first two lose digits to cancellation) they are replaced
    by their first-order expansions in p, Rk - R(R+1)k^2 p/2 and
    Rk + R(R+1)k^2 - p R(R+1)k^2 (2(R+2)k/3 + 3/2), error O((pk(R+2))^2) < 1e-10."""
    pk = p * k
    y = np.log1p(pk)
    one_minus_e0 = -np.expm1(-R * y)
    e0 = np.exp(-R * y)
    inv = 1.0 / (1.0 + pk)
    shrink = pk * inv
    small = pk * (R + 2.0) < 1e-5
    with np.errstate(divide="ignore", invalid="ignore"):
        m1 = one_minus_e0 / p
        m2 = ((2.0 - p) * one_minus_e0 - 2.0 * (1.0 - p) * R * shrink * e0) / (p * p)
    rk = R * k
    rrk2 = rk * (R + 1.0) * k
    if small.any():
        m1 = np.where(small, rk - 0.5 * rrk2 * p, m1)
        m2 = np.where(small, rk + rrk2 - p * rrk2 * (2.0 * (R + 2.0) * k / 3.0 + 1.5), m2)
    q_inv = (1.0 - p) * inv
    s1 = rk * q_inv * e0
    s2 = rrk2 * q_inv * q_inv * e0 + s1
    return m1, m2, e0, s1, s2


def _beta_geometric_parts(
    t: FloatArray, x: FloatArray, T: FloatArray, r: float, alpha: float, a: float, b_post: FloatArray
) -> _CountParts:
    """:class:`_CountParts` for BG/NBD-type models on distinct rows; ``b_post`` is the
    second parameter of p's posterior (b + x, or b + x + 1).  P(N >= 1) = P(K >= 1) is a
    closed form; the rest are Gauss-Jacobi sums over p's posterior, node by node (the
    same sums whatever the other rows)."""
    R = r + x
    k = t / (alpha + T)
    log_k0 = -R * np.log1p(k)  # log P(K = 0)
    p_pos = -np.expm1(log_k0)
    sums = np.zeros((5, len(x)))
    sizes = _nodes_for(k)
    for n in np.unique(sizes):
        rows = np.flatnonzero((sizes == n) & (t > 0))
        if len(rows) == 0:
            continue
        bvals, inverse = np.unique(b_post[rows], return_inverse=True)
        nodes, weights = beta_gauss_rule(a, bvals, int(n))
        kr, Rr = k[rows], R[rows]
        acc = np.zeros((5, len(rows)))
        for j in range(int(n)):
            w_j = weights[inverse, j]
            for i, g in enumerate(_thinned_moments(nodes[inverse, j], kr, Rr)):
                acc[i] += w_j * g
        sums[:, rows] = acc
    m1, m2, survive, s1, s2 = sums
    s_pos = np.maximum(survive - np.exp(log_k0), 0.0)  # survivors with K >= 1
    live = t > 0
    return _CountParts(p_pos=np.where(live, p_pos, 0.0), m1=m1, m2=m2, s_pos=np.where(live, s_pos, 0.0), s1=s1, s2=s2)


def _expm1_ratio(c: FloatArray, L: FloatArray) -> FloatArray:
    """(exp(c L) - 1)/c, = L at c = 0."""
    cl = c * L
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.expm1(cl) / c
    return np.where(np.abs(cl) < 1e-8, L * (1.0 + 0.5 * cl), out)


_GL8_NODES, _GL8_WEIGHTS = np.polynomial.legendre.leggauss(8)


def _lomax_truncated_moments(t: FloatArray, S: FloatArray, B: FloatArray) -> tuple[FloatArray, FloatArray]:
    """E[u] and E[u^2] for u = min(tau, t), P(tau > s) = (1 + s/B)^-S.

    E[u] = int_0^t (1+s/B)^-S ds = B (W^(1-S) - 1)/(1-S) and E[u^2] = 2 int_0^t s (1+s/B)^-S ds
    = 2 B^2 int_0^L e^((1-S)y) (e^y - 1) dy with L = log(1 + t/B), W = e^L: closed form
    for L >= 0.1, an 8-point Gauss-Legendre rule below (the closed form's two terms
    cancel there; the integrand is smooth)."""
    L = np.log1p(t / B)
    e1 = B * _expm1_ratio(1.0 - S, L)
    closed = _expm1_ratio(2.0 - S, L) - _expm1_ratio(1.0 - S, L)
    quad = np.zeros_like(L)
    for node, weight in zip(_GL8_NODES, _GL8_WEIGHTS):
        y = 0.5 * L * (node + 1.0)
        quad += weight * np.exp((1.0 - S) * y) * np.expm1(y)
    quad *= 0.5 * L
    e2 = 2.0 * B * B * np.where(L >= 0.1, closed, quad)
    return e1, e2


_GL16_NODES, _GL16_WEIGHTS = np.polynomial.legendre.leggauss(16)


def _pareto_p_zero_quadrature(t: FloatArray, R: FloatArray, A: FloatArray, S: FloatArray, B: FloatArray) -> FloatArray:
    """P(N = 0 | alive) for the Pareto/NBD by quadrature:
    (1+t/A)^-R (1+t/B)^-S + int_0^t (1+s/A)^-R (S/B)(1+s/B)^-(S+1) ds on a geometrically
    graded mesh (panels [4^-(i+1) t, 4^-i t], i < 24, plus [0, 4^-24 t]; 16 Gauss-Legendre
    nodes each), which resolves the boundary layer at s = 0 of large R or S (~1e-14
    against scipy quad where 2F1 fails).  The fallback of :func:`_pareto_p_zero` (slow:
    400 evaluations per row)."""
    total = np.exp(-R * np.log1p(t / A) - S * np.log1p(t / B))
    edges = [0.0] + [4.0**-i for i in range(24, -1, -1)]
    for lo, hi in itertools.pairwise(edges):
        for node, weight in zip(_GL16_NODES, _GL16_WEIGHTS):
            s = t * (lo + 0.5 * (hi - lo) * (node + 1.0))
            f = np.exp(-R * np.log1p(s / A) - (S + 1.0) * np.log1p(s / B)) * S / B
            total += 0.5 * (hi - lo) * t * weight * f
    return total


def _pareto_p_zero(t: FloatArray, R: FloatArray, A: FloatArray, S: FloatArray, B: FloatArray) -> FloatArray:
    """P(N = 0 | alive) for the Pareto/NBD, E[(1 + u/A)^-R] with u = min(tau, t):

        (1+t/A)^-R (1+t/B)^-S + S A^R B^S int_0^t (A+y)^-R (B+y)^-(S+1) dy,

    and int_y^inf (A+u)^-R (B+u)^-(S+1) du (Fader & Hardie's note 009, eqs. 19-20) turned
    by Euler's transformation into a 2F1 with first parameter 1, whose series has only
    positive terms.  With h F = (1+t/A)^-R (1+t/B)^-S and c = R + S:

    * A >= B, z(y) = (A-B)/(A+y):  P0 = h F (1 - S/c G(z(t))) + S/c G(z(0)),
      G = 2F1(1, R; c+1; z);
    * A < B, z(y) = (B-A)/(B+y):   P0 = h F (1 - S (A+t)/(c (B+t)) H(z(t))) + S A/(c B) H(z(0)),
      H = 2F1(1, S+1; c+1; z).

    (A = B: z = 0, P0 = S/c + h F R/c, the chance that the Gamma(S) clock rings before the
    Gamma(R) one, plus that neither rings before t.)  Rows where hyp2f1 is not finite or
    the result leaves [h F, 1] go to :func:`_pareto_p_zero_quadrature`.
    """
    hF = np.exp(-R * np.log1p(t / A) - S * np.log1p(t / B))
    c = R + S
    big_a = A >= B
    out = np.empty(len(R))
    with np.errstate(all="ignore"):
        i = np.flatnonzero(big_a)
        if len(i):
            Ri, Si, Ai, Bi, ti, ci = R[i], S[i], A[i], B[i], t[i], c[i]
            g0 = hyp2f1(1.0, Ri, ci + 1.0, (Ai - Bi) / Ai)
            gt = hyp2f1(1.0, Ri, ci + 1.0, (Ai - Bi) / (Ai + ti))
            out[i] = hF[i] * (1.0 - Si / ci * gt) + Si / ci * g0
        i = np.flatnonzero(~big_a)
        if len(i):
            Ri, Si, Ai, Bi, ti, ci = R[i], S[i], A[i], B[i], t[i], c[i]
            h0 = hyp2f1(1.0, Si + 1.0, ci + 1.0, (Bi - Ai) / Bi)
            ht = hyp2f1(1.0, Si + 1.0, ci + 1.0, (Bi - Ai) / (Bi + ti))
            out[i] = hF[i] * (1.0 - Si * (Ai + ti) / (ci * (Bi + ti)) * ht) + Si * Ai / (ci * Bi) * h0
    bad = ~np.isfinite(out) | (out < hF * (1.0 - 1e-12)) | (out > 1.0 + 1e-12)
    if bad.any():
        out[bad] = _pareto_p_zero_quadrature(t[bad], R[bad], A[bad], S[bad], B[bad])
    return np.clip(out, hF, 1.0)


def _pareto_parts(
    t: FloatArray, x: FloatArray, T: FloatArray, r: float, alpha: float, s: float, beta: float
) -> _CountParts:
    """:class:`_CountParts` for the Pareto/NBD on distinct rows.  Survivors (tau > t,
    probability (1+t/B)^-S) buy NB(R, A/(A+t)): E[N] = R k, E[N^2] = R k + R(R+1) k^2
    with k = t/A."""
    R = r + x
    A = alpha + T
    S = np.full(len(x), s)
    B = beta + T
    live = t > 0
    eu, eu2 = _lomax_truncated_moments(t, S, B)
    m1 = R * eu / A
    m2 = m1 + R * (R + 1.0) * eu2 / (A * A)
    p_pos = np.where(live, 1.0 - _pareto_p_zero(t, R, A, S, B), 0.0)
    k = t / A
    survive = np.exp(-S * np.log1p(t / B))
    s_pos = survive * -np.expm1(-R * np.log1p(k))
    s1 = survive * R * k
    s2 = s1 + survive * R * (R + 1.0) * k * k
    zero = np.zeros(len(x))
    return _CountParts(
        p_pos=p_pos,
        m1=np.where(live, m1, 0.0),
        m2=np.where(live, m2, 0.0),
        s_pos=np.where(live, s_pos, 0.0),
        s1=np.where(live, s1, zero),
        s2=np.where(live, s2, zero),
    )


# --------------------------------------------------------------------------- count moments


def _check_model(model_name: str) -> tuple[str, ...]:
    if model_name not in PURCHASE_MODELS:
        raise ValueError(f"unknown purchase model {model_name!r}; expected one of {sorted(PURCHASE_MODELS)}")
    return PURCHASE_MODELS[model_name]


def _param_tuple(model_name: str, params: Mapping[str, float] | Sequence[float]) -> tuple[float, float, float, float]:
    names = _check_model(model_name)
    values = [float(params[n]) for n in names] if isinstance(params, Mapping) else [float(v) for v in params]
    if len(values) != 4 or not all(np.isfinite(v) and v > 0 for v in values):
        raise ValueError(f"{model_name} needs four finite positive parameters {names}, got {values}")
    return values[0], values[1], values[2], values[3]


def _parts_distinct(
    model_name: str, t: FloatArray, x: FloatArray, T: FloatArray, params: tuple[float, float, float, float]
) -> _CountParts:
    """:class:`_CountParts` on rows that are already distinct."""
    p1, p2, p3, p4 = params
    if model_name == "pareto_nbd":
        return _pareto_parts(t, x, T, p1, p2, p3, p4)
    b_post = p4 + x + (1.0 if model_name == "mbg_nbd" else 0.0)
    return _beta_geometric_parts(t, x, T, p1, p2, p3, b_post)


def moments_if_alive(
    model_name: str, t: float | ArrayLike, x: ArrayLike, T: ArrayLike, params: Mapping[str, float] | Sequence[float]
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(P(N >= 1 | alive), E[N | alive], E[N^2 | alive]) per row, N the purchase days in
    the ``t`` weeks after T, for valid rows (x a non-negative integer, T >= 0, t >= 0).

    Evaluated once per distinct (x, T, t): see the module docstring for the method.
    """
    pars = _param_tuple(model_name, params)
    xa = as_float_array(x, "frequency")
    Ta = as_float_array(T, "T")
    tt = np.broadcast_to(np.asarray(t, dtype=np.float64), xa.shape).astype(np.float64)
    check_same_length(frequency=xa, T=Ta, t=tt)
    if len(xa) == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    dr = distinct_rows([xa, Ta, tt], return_inverse=True)
    assert dr.inverse is not None
    parts = _parts_distinct(model_name, dr.values(2), dr.values(0), dr.values(1), pars).take(dr.inverse)
    return parts.p_pos, parts.m1, parts.m2


def count_moments(
    model_name: str,
    t: float | ArrayLike,
    frequency: ArrayLike,
    T: ArrayLike,
    probability_alive: ArrayLike,
    params: Mapping[str, float] | Sequence[float],
) -> CountMoments:
    """The predictive distribution of the purchase days N in the ``t`` weeks after T:
    P(N = 0) = 1 - P(alive) P(N >= 1 | alive), E[N] = P(alive) E[N | alive],
    E[N^2] = P(alive) E[N^2 | alive].

    ``model_name`` is ``"bg_nbd"``, ``"mbg_nbd"`` or ``"pareto_nbd"``; ``params`` a mapping
    with the model's parameter names (:data:`PURCHASE_MODELS`) or a sequence in that
    order; ``probability_alive`` the model's P(alive at T | x, t_x, T).  ``t`` is a scalar
    or one value per customer (weeks).  Invalid rows (x not a non-negative integer, T or t
    negative or missing, P(alive) outside [0, 1] or missing) give NaN.
    """
    x = as_float_array(frequency, "frequency")
    Ta = as_float_array(T, "T")
    pa = as_float_array(probability_alive, "probability_alive")
    tt = np.broadcast_to(np.asarray(t, dtype=np.float64), x.shape).astype(np.float64)
    n = check_same_length(frequency=x, T=Ta, probability_alive=pa, t=tt)
    with np.errstate(invalid="ignore"):
        valid = (
            np.isfinite(x)
            & (x >= 0)
            & (x == np.floor(x))
            & np.isfinite(Ta)
            & (Ta >= 0)
            & np.isfinite(tt)
            & (tt >= 0)
            & np.isfinite(pa)
            & (pa >= 0)
            & (pa <= 1)
        )
    p_zero, mean, second = (np.full(n, np.nan) for _ in range(3))
    sel = np.flatnonzero(valid)
    if len(sel):
        p_pos, m1, m2 = moments_if_alive(model_name, tt[sel], x[sel], Ta[sel], params)
        p_zero[sel] = 1.0 - pa[sel] * p_pos
        mean[sel] = pa[sel] * m1
        second[sel] = pa[sel] * m2
    return CountMoments(p_zero=p_zero, mean=mean, second_moment=second)


def bgnbd_count_moments(
    t: float | ArrayLike,
    frequency: ArrayLike,
    T: ArrayLike,
    probability_alive: ArrayLike,
    r: float,
    alpha: float,
    a: float,
    b: float,
) -> CountMoments:
    """:func:`count_moments` of the BG/NBD (Fader, Hardie & Lee 2005)."""
    return count_moments("bg_nbd", t, frequency, T, probability_alive, (r, alpha, a, b))


def mbgnbd_count_moments(
    t: float | ArrayLike,
    frequency: ArrayLike,
    T: ArrayLike,
    probability_alive: ArrayLike,
    r: float,
    alpha: float,
    a: float,
    b: float,
) -> CountMoments:
    """:func:`count_moments` of the MBG/NBD (Batislam, Denizel & Filiztekin 2007)."""
    return count_moments("mbg_nbd", t, frequency, T, probability_alive, (r, alpha, a, b))


def paretonbd_count_moments(
    t: float | ArrayLike,
    frequency: ArrayLike,
    T: ArrayLike,
    probability_alive: ArrayLike,
    r: float,
    alpha: float,
    s: float,
    beta: float,
) -> CountMoments:
    """:func:`count_moments` of the Pareto/NBD (Schmittlein, Morrison & Colombo 1987)."""
    return count_moments("pareto_nbd", t, frequency, T, probability_alive, (r, alpha, s, beta))


# --------------------------------------------------------------------------- parameter uncertainty


def sigma_points(center: ArrayLike, covariance: ArrayLike | None) -> tuple[FloatArray, FloatArray]:
    """Points (rows) and weights that stand for the normal distribution N(center, covariance)
    of a fit's log-parameters: the symmetric set of the unscented transform,
    center +- sqrt(k) sqrt(lambda_i) u_i for the k eigenpairs of the covariance, each with
    weight 1/(2k).  Any function's mean and variance over these 2k points match those over
    the normal distribution to second order (exactly for quadratics).  Without a covariance
    (or an all-zero one) the center alone, weight 1.  Deterministic."""
    c = np.asarray(center, dtype=np.float64)
    if covariance is None:
        return c[None, :], np.ones(1)
    cov = np.asarray(covariance, dtype=np.float64)
    k = len(c)
    if cov.shape != (k, k) or not np.all(np.isfinite(cov)):
        raise ValueError(f"log covariance must be a finite {k}x{k} matrix, got {cov.shape}")
    lam, vec = np.linalg.eigh(0.5 * (cov + cov.T))
    if np.all(lam <= 0):
        return c[None, :], np.ones(1)
    cols = vec * np.sqrt(np.maximum(lam, 0.0))[None, :] * np.sqrt(k)
    points = np.concatenate([c[None, :] + cols.T, c[None, :] - cols.T])
    return points, np.full(2 * k, 1.0 / (2 * k))


def probability_alive_function(
    model_name: str, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> Callable[[tuple[float, float, float, float]], FloatArray]:
    """P(alive at T | x, t_x, T) as a function of the parameters, for
    :func:`clv_value_distribution` to re-evaluate at every parameter point: the model's own
    formula (``probability_alive_raw`` of :data:`customer_value.clv.PURCHASE_MODELS`; for
    MBG/NBD a one-time buyer may have dropped out, for Pareto/NBD the likelihood's
    integral enters)."""
    from .purchase_models import PURCHASE_MODELS  # the registry imports this module

    _check_model(model_name)
    x = as_float_array(frequency, "frequency")
    t_x = np.where(x > 0, as_float_array(recency, "recency"), 0.0)
    Ta = as_float_array(T, "T")
    check_same_length(frequency=x, recency=t_x, T=Ta)
    t_x = np.minimum(t_x, Ta)
    raw = PURCHASE_MODELS[model_name].probability_alive_raw

    def alive(params: tuple[float, float, float, float]) -> FloatArray:
        return raw(x, t_x, Ta, *params)

    return alive


# --------------------------------------------------------------------------- value distribution


def _beta_prime_quantile(shape1: FloatArray, shape2: FloatArray, level: FloatArray) -> FloatArray:
    """Quantile of W/(1-W), W ~ Beta(shape1, shape2) (the beta prime distribution): w/(1-w)
    with w from betaincinv; where w > 1 - 1e-6 (w/(1-w) would lose more than six digits)
    1 - w comes from the complementary inverse instead."""
    w = betaincinv(shape1, shape2, level)
    out = w / (1.0 - w)
    hi = w > 1.0 - 1e-6
    if hi.any():
        w_c = betaincinv(shape2[hi], shape1[hi], 1.0 - level[hi])  # = 1 - w
        out[hi] = (1.0 - w_c) / w_c
    return out


def _paulson_beta_prime_quantile(shape1: FloatArray, shape2: FloatArray, level: FloatArray) -> FloatArray:
    """Approximate quantile of Gamma(shape1)/Gamma(shape2) (beta prime), Paulson's (1942)
    Wilson-Hilferty approximation of the F distribution: the cube roots of
    Gamma(k)/k are ~N(1 - 1/(9k), 1/(9k)), so P(ratio <= (k1/k2) u^3) =
    Phi(((1-b) u - (1-a)) / sqrt(a + b u^2)), a quadratic in u.  A start for Halley's
    method (typically within a few per cent); NaN where the quadratic has no root."""
    a = 1.0 / (9.0 * shape1)
    b = 1.0 / (9.0 * shape2)
    z = ndtri(level)
    with np.errstate(invalid="ignore", divide="ignore"):
        disc = a * (1.0 - b) ** 2 + b * (1.0 - a) ** 2 - z * z * a * b
        denom = (1.0 - b) ** 2 - z * z * b
        u = ((1.0 - a) * (1.0 - b) + z * np.sqrt(disc)) / denom
        out = shape1 / shape2 * u**3
    return np.where((disc >= 0) & (denom > 0) & (u > 0), out, np.nan)


def _gamma_from_moments(m1: FloatArray, m2: FloatArray) -> tuple[FloatArray, FloatArray]:
    """(shape, rate) of the Gamma with mean m1 and second moment m2 (variance floored at
    1e-12 m1^2 against rounding)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        var = np.maximum(m2 - m1 * m1, 1e-12 * m1 * m1)
        return m1 * m1 / var, m1 / var


#: Halley iterations of the mixture quantile (each: two betainc); converges in 2-4.
_NEWTON_MAX_ITER = 40
_NEWTON_LEVEL_TOL = 1e-10
_HALLEY_ACCEPT_STEP = 1e-4


@dataclass(frozen=True)
class ClvValueDistribution:
    """The approximate predictive distribution of each customer's value over the horizon
    (from :func:`clv_value_distribution`; all arrays of length n, NaN where not predicted):

        V = 0              with probability ``p_zero`` (no purchase day at all),
        V = scale * G / H  otherwise,

    with H ~ Gamma(``shape_spend``, 1) (the spend rate's posterior, exact) independent of
    G, a two-part Gamma mixture: with probability ``weight_survive`` Gamma(``shape_survive``,
    rate ``rate_survive``) (customers alive at the end of the horizon), else
    Gamma(``shape_drop``, rate ``rate_drop``) (dropped out during it).  Each part's
    G / H is a scaled beta prime variable.  A negative ``scale`` is a negative margin.
    """

    p_zero: FloatArray
    #: margin x discount ratio x (v + x m)
    scale: FloatArray
    weight_survive: FloatArray
    shape_survive: FloatArray
    rate_survive: FloatArray
    shape_drop: FloatArray
    rate_drop: FloatArray
    #: Q = q + p x
    shape_spend: FloatArray
    #: E[V] (the predicted CLV when there is no parameter uncertainty)
    mean: FloatArray

    def _positive_cdf(self, y: FloatArray, rows: np.ndarray) -> FloatArray:
        """P(G/H <= y) for the given rows (y >= 0)."""
        Q = self.shape_spend[rows]
        out = np.zeros(len(rows))
        for weight, shape, rate in (
            (self.weight_survive[rows], self.shape_survive[rows], self.rate_survive[rows]),
            (1.0 - self.weight_survive[rows], self.shape_drop[rows], self.rate_drop[rows]),
        ):
            by = rate * y
            with np.errstate(invalid="ignore", divide="ignore"):
                w = np.where(np.isinf(by), 1.0, by / (1.0 + by))
                part = betainc(shape, Q, w)
            out += np.where(weight > 0, weight * part, 0.0)
        return out

    def _positive_quantile(self, level: FloatArray, rows: np.ndarray) -> FloatArray:
        """The ``level`` quantile of G/H for the given rows (0 < level < 1): exact Beta
        quantiles where one part has all the weight, else safeguarded Newton on the
        mixture's CDF in log y (:meth:`_newton`), started from Paulson's approximation to
        the quantile with a single Gamma of the mixture's first two moments."""
        ws = self.weight_survive[rows]
        ks, rs, kd, rd = (getattr(self, f)[rows] for f in ("shape_survive", "rate_survive", "shape_drop", "rate_drop"))
        Q = self.shape_spend[rows]
        only_s = ws >= 1.0
        only_d = ws <= 0.0
        k1 = np.where(only_s, ks, kd)
        r1 = np.where(only_s, rs, rd)
        mix = ~(only_s | only_d)
        if mix.any():  # start: one Gamma with the mixture's first two moments
            wm = ws[mix]
            m1 = wm * ks[mix] / rs[mix] + (1 - wm) * kd[mix] / rd[mix]
            m2 = wm * ks[mix] * (ks[mix] + 1) / rs[mix] ** 2 + (1 - wm) * kd[mix] * (kd[mix] + 1) / rd[mix] ** 2
            k1[mix], r1[mix] = _gamma_from_moments(m1, m2)
        y = np.empty(len(rows))
        single = np.flatnonzero(~mix)
        if len(single):
            y[single] = _beta_prime_quantile(k1[single], Q[single], level[single]) / r1[single]
        idx = np.flatnonzero(mix)
        if len(idx):
            start = _paulson_beta_prime_quantile(k1[idx], Q[idx], level[idx])
            bad = ~(start > 0) | ~np.isfinite(start)
            if bad.any():
                start[bad] = _beta_prime_quantile(k1[idx][bad], Q[idx][bad], level[idx][bad])
            y[idx] = self._newton(np.log(start / r1[idx]), level[idx], rows[idx])
        return y

    def _newton(self, z: FloatArray, level: FloatArray, rows: np.ndarray) -> FloatArray:
        """Solve P(G/H <= e^z) = level for the mixture rows: Halley steps on the mixture's
        CDF in z = log y (its first two derivatives are closed forms), kept inside the
        bracket of the values seen so far (bisection when a step leaves it).  Converged
        rows leave the working arrays."""
        Q = self.shape_spend[rows]
        ws = self.weight_survive[rows]
        cols = [
            ws,
            1.0 - ws,
            self.shape_survive[rows],
            self.shape_drop[rows],
            np.log(self.rate_survive[rows]),
            np.log(self.rate_drop[rows]),
            Q,
            level,
        ]
        cols.append(betaln(cols[2], Q))
        cols.append(betaln(cols[3], Q))
        out = z.copy()
        where = np.arange(len(z))
        lo = np.full(len(z), -np.inf)
        hi = np.full(len(z), np.inf)
        for _ in range(_NEWTON_MAX_ITER):
            w_s, w_d, k_s, k_d, lr_s, lr_d, q, lv, lb_s, lb_d = cols
            F = np.zeros(len(z))
            dF = np.zeros(len(z))
            d2F = np.zeros(len(z))
            for weight, shape, log_rate, lb in ((w_s, k_s, lr_s, lb_s), (w_d, k_d, lr_d, lb_d)):
                sa = z + log_rate
                log_w, log_1mw = log_expit(sa), log_expit(-sa)
                w = np.exp(log_w)
                F += weight * betainc(shape, q, w)
                dens = weight * np.exp(shape * log_w + q * log_1mw - lb)  # d/dz of the part
                dF += dens
                d2F += dens * (shape * (1.0 - w) - q * w)
            err = F - lv
            lo = np.where(err < 0, z, lo)
            hi = np.where(err >= 0, z, hi)
            with np.errstate(divide="ignore", invalid="ignore"):
                newton = err / dF
                step = newton / (1.0 - 0.5 * newton * d2F / dF)  # Halley
                step = np.where(np.isfinite(step) & (np.abs(step) <= 2.0), step, np.clip(newton, -2.0, 2.0))
            cand = z - np.where(np.isfinite(step), step, np.where(err < 0, -2.0, 2.0))
            both = np.isfinite(lo) & np.isfinite(hi)
            cand = np.where(((cand > lo) & (cand < hi)) | ~both, cand, 0.5 * (lo + hi))
            # converged: the level is matched, or the step just taken is so small that the
            # cubic convergence puts the next error below ~1e-12 (no need to evaluate it)
            done = (np.abs(err) <= _NEWTON_LEVEL_TOL) | (np.abs(cand - z) <= _HALLEY_ACCEPT_STEP)
            out[where] = np.where(np.abs(err) <= _NEWTON_LEVEL_TOL, z, cand)
            if done.all():
                break
            keep = ~done
            z, lo, hi, where = cand[keep], lo[keep], hi[keep], where[keep]
            cols = [c[keep] for c in cols]
        return np.exp(out)

    def quantile(self, level: float | ArrayLike) -> FloatArray:
        """The ``level`` quantile of V per customer (the smallest v with P(V <= v) >= level)."""
        u = np.broadcast_to(np.asarray(level, dtype=np.float64), self.p_zero.shape)
        if np.any((u < 0) | (u > 1)):
            raise ValueError("level must be in [0, 1]")
        neg = self.scale < 0
        u_abs = np.where(neg, 1.0 - u, u)  # level within the distribution of |V|
        out = np.where(np.isnan(self.p_zero) | np.isnan(self.scale), np.nan, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            lv = (u_abs - self.p_zero) / (1.0 - self.p_zero)
        need = np.flatnonzero((lv > 0) & (self.scale != 0) & np.isfinite(self.scale))
        if len(need):
            lv_need = np.minimum(lv[need], 1.0)
            y = np.empty(len(need))

            def run(sl: slice) -> None:  # rows are independent: same bits in any chunking
                y[sl] = self._positive_quantile(lv_need[sl], need[sl])

            chunked_map(run, len(need))
            out[need] = self.scale[need] * y
        return out

    def cdf(self, value: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """(P(V < v), P(V <= v)) per customer: they differ by the atom at 0."""
        v = np.broadcast_to(np.asarray(value, dtype=np.float64), self.p_zero.shape)
        p0, sc = self.p_zero, self.scale
        rows = np.flatnonzero(np.isfinite(v) & np.isfinite(sc) & (sc != 0) & (v != 0) & (np.sign(v) == np.sign(sc)))
        pos = np.zeros(len(v))  # P(G/H <= v/scale) where v is on the side of V's support
        if len(rows):
            pos[rows] = self._positive_cdf(v[rows] / sc[rows], rows)
        up, down = sc > 0, sc < 0
        # scale > 0: P(V <= v) = p0 + (1-p0) P(G/H <= v/scale) for v >= 0;
        # scale < 0: V <= v < 0 is G/H >= v/scale
        below = np.where(
            up,
            np.where(v < 0, 0.0, p0 + (1.0 - p0) * pos),
            np.where(down, np.where(v < 0, (1.0 - p0) * (1.0 - pos), 1.0), np.where(v < 0, 0.0, 1.0)),
        )
        strictly = np.where(v == 0, np.where(down, 1.0 - p0, 0.0), below)
        nan = np.isnan(p0) | np.isnan(sc) | np.isnan(v)
        return np.where(nan, np.nan, strictly), np.where(nan, np.nan, below)

    def randomized_pit(self, value: ArrayLike, uniform: ArrayLike) -> FloatArray:
        """The randomised probability integral transform F(v-) + U (F(v) - F(v-)): exactly
        uniform on (0, 1) if the distribution is right, atoms included (Czado, Gneiting &
        Held 2009).  ``uniform`` are U(0, 1) draws, one per customer."""
        lo, hi = self.cdf(value)
        return lo + np.asarray(uniform, dtype=np.float64) * (hi - lo)

    def interval(self, level: float = 0.8) -> tuple[FloatArray, FloatArray]:
        """(low, high) per customer, covering V with probability ``level`` (see
        :func:`clv_intervals` for the rule at the atom)."""
        if not 0.0 < level < 1.0:
            raise ValueError("level must be strictly between 0 and 1")
        tail = 0.5 * (1.0 - level)
        p0 = self.p_zero
        nan = np.isnan(p0) | np.isnan(self.scale)
        central = p0 < tail
        magnitude = replace(self, scale=np.abs(self.scale), mean=np.abs(self.mean))
        q_lo = np.where(central, magnitude.quantile(np.where(central, tail, 0.0)), 0.0)
        q_hi = magnitude.quantile(np.where(nan, 0.0, np.where(central, 1.0 - tail, np.where(p0 < level, level, 0.0))))
        neg = self.scale < 0
        low = np.where(neg, -q_hi, q_lo)
        high = np.where(neg, -q_lo, q_hi)
        return np.where(nan, np.nan, low), np.where(nan, np.nan, high)


def _broadcast(values: float | ArrayLike, n: int, name: str) -> FloatArray:
    if np.ndim(values) == 0:
        return np.full(n, float(values))  # type: ignore[arg-type]
    arr = as_float_array(values, name)
    if len(arr) != n:
        raise ValueError(f"{name} has length {len(arr)}, expected a scalar or {n}")
    return arr


def _gamma_gamma_tuple(params: Mapping[str, float] | Sequence[float]) -> tuple[float, float, float]:
    values = [float(params[k]) for k in ("p", "q", "v")] if isinstance(params, Mapping) else [float(v) for v in params]
    ok = len(values) == 3 and all(np.isfinite(v) for v in values)
    if not ok or values[0] <= 0 or values[1] <= 1 or values[2] <= 0:
        raise ValueError(f"Gamma-Gamma needs finite p > 0, q > 1, v > 0, got {values}")
    return values[0], values[1], values[2]


PurchaseParams = Mapping[str, float] | Sequence[float]
AliveInput = ArrayLike | Callable[[tuple[float, float, float, float]], FloatArray]

#: A part of the count distribution with less than this share of P(N >= 1) is dropped
#: (its moments come from differences and lose their digits when it is this small).
_MIN_PART = 1e-9


def clv_value_distribution(
    model_name: str,
    purchase_params: PurchaseParams,
    purchase_log_covariance: ArrayLike | None,
    gamma_gamma_params: Mapping[str, float] | Sequence[float],
    gg_log_covariance: ArrayLike | None,
    frequency: ArrayLike,
    T: ArrayLike,
    monetary: ArrayLike,
    probability_alive: AliveInput,
    margin_rate: float | ArrayLike,
    discount_ratio: float | ArrayLike,
    horizon_weeks: float,
) -> ClvValueDistribution:
    """The predictive distribution of each customer's value over the next ``horizon_weeks``,
    V = margin x discount ratio x S with S = z_1 + ... + z_N, N the purchase days
    (``model_name``'s count model) and z_k their values (Gamma-Gamma).

    **Spend.** Given the customer's x repeat days with mean m, the spend rate is
    nu ~ Gamma(Q = q + p x, rate V' = v + x m) (m ignored for x = 0, and a non-positive m
    of a repeat customer scored as 0, as :func:`gamma_gamma_expected_spend` does) and
    z_k = g_k / nu with g_k ~ Gamma(p, 1).  So S = V' G / H exactly, with
    G = g_1 + ... + g_N (given N = n: Gamma(n p)) and H ~ Gamma(Q, 1) independent of G.

    **Approximation.** P(S = 0) = P(N = 0) is kept exactly (the atom), and so is H (the
    right tail from the customer's unknown spend rate).  Given N >= 1, G is a mixture of
    Gamma(n p) over n; its two parts, customers who survive the horizon and customers
    who drop out during it (a drop-out's count spreads from 1 up, a survivor's
    concentrates around the purchase rate x t), are each replaced by the Gamma with
    their first two moments (p E[N] and p E[N] + p^2 E[N^2] within the part, in closed
    form).  Then S | S > 0 is a two-part mixture of scaled beta primes; quantiles by
    Newton on its CDF.  Its mean is p V' E[N]/(Q-1) = E[N] x the Gamma-Gamma expected
    spend, the predicted CLV's undiscounted value.

    **Discounting** enters as ``discount_ratio`` = predicted CLV / undiscounted expected
    value (per customer; :func:`discount_ratio` computes it from a prediction): every
    purchase day is discounted by the same average factor instead of its month's.

    **Parameter uncertainty.** The purchase model's log-parameters
    ~ N(log params, ``purchase_log_covariance``) are represented by the 2k
    :func:`sigma_points`; the count quantities (with P(alive) re-evaluated when
    ``probability_alive`` is a callable of the parameters) are averaged over them, which
    makes the count distribution the parameter mixture (its atom and each part's first two
    moments).  The Gamma-Gamma log-parameters (log p, log(q-1), log v)
    ~ N(., ``gg_log_covariance``) enter as a factor on the spend: the expected spend
    p (v + x m)/(p x + q - 1) at its 6 sigma points, relative to the point estimate's,
    gives the factor's mean and second moment, folded into G's Gammas (the factor is
    independent of G).  A covariance of None leaves that model's parameters fixed.

    ``probability_alive`` is an array (P(alive) at the point estimate, used at every
    parameter point: the uncertainty of P(alive) itself is then left out) or a callable
    params -> array (:func:`probability_alive_function`).  ``margin_rate`` and
    ``discount_ratio`` are scalars or per customer.  Invalid or missing inputs (including a
    NaN discount ratio, i.e. no predicted CLV) give NaN.
    """
    _check_model(model_name)
    center = np.log(_param_tuple(model_name, purchase_params))
    p_gg, q_gg, v_gg = _gamma_gamma_tuple(gamma_gamma_params)
    if not np.isfinite(horizon_weeks) or horizon_weeks < 0:
        raise ValueError("horizon_weeks must be finite and >= 0")
    x = as_float_array(frequency, "frequency")
    Ta = as_float_array(T, "T")
    m = as_float_array(monetary, "monetary")
    n = check_same_length(frequency=x, T=Ta, monetary=m)
    margin = _broadcast(margin_rate, n, "margin_rate")
    ratio = _broadcast(discount_ratio, n, "discount_ratio")
    alive_fixed = None if callable(probability_alive) else _broadcast(probability_alive, n, "probability_alive")

    with np.errstate(invalid="ignore"):
        valid = (
            np.isfinite(x)
            & (x >= 0)
            & (x == np.floor(x))
            & np.isfinite(Ta)
            & (Ta >= 0)
            & ((x == 0) | np.isfinite(m))
            & np.isfinite(margin)
            & np.isfinite(ratio)
            & (ratio >= 0)
        )
        if alive_fixed is not None:
            valid &= np.isfinite(alive_fixed) & (alive_fixed >= 0) & (alive_fixed <= 1)
    sel = np.flatnonzero(valid)
    xs, Ts = x[sel], Ta[sel]
    pairs = distinct_rows([xs, Ts], return_inverse=True)
    inverse = pairs.inverse
    assert inverse is not None
    xd, Td = pairs.values(0), pairs.values(1)
    td = np.full(len(xd), float(horizon_weeks))

    # purchases: the count parts mixed over the parameter points (weights x P(alive))
    points, weights = sigma_points(center, purchase_log_covariance)
    acc = np.zeros((6, len(sel)))
    alive_failed = np.zeros(len(sel), dtype=bool)
    for point, weight in zip(points, weights):
        p1, p2, p3, p4 = (float(v) for v in np.exp(point))
        params = (p1, p2, p3, p4)
        parts = _parts_distinct(model_name, td, xd, Td, params)
        if alive_fixed is not None:
            alive = alive_fixed[sel]
        else:
            alive = as_float_array(probability_alive(params), "probability_alive")[sel]  # type: ignore[operator]
            with np.errstate(invalid="ignore"):
                alive_failed |= ~((alive >= 0) & (alive <= 1))
            alive = np.where(alive_failed, 0.0, alive)
        w_alive = weight * alive
        for i, f in enumerate(("p_pos", "m1", "m2", "s_pos", "s1", "s2")):
            acc[i] += w_alive * getattr(parts, f)[inverse]
    pos, m1, m2, s_pos, s1, s2 = acc

    # spend: the posterior of nu at the point estimate, and the parameter factor
    m_used = np.where(xs > 0, np.maximum(np.nan_to_num(m[sel], nan=0.0), 0.0), 0.0)
    v_post = v_gg + xs * m_used
    q_post = q_gg + p_gg * xs
    expected_spend = p_gg * v_post / (q_post - 1.0)
    gg_points, gg_weights = sigma_points(np.log([p_gg, q_gg - 1.0, v_gg]), gg_log_covariance)
    eta1 = np.zeros(len(sel))
    eta2 = np.zeros(len(sel))
    for (lp, lq, lv), weight in zip(gg_points, gg_weights):
        pp, qq, vv = np.exp(lp), 1.0 + np.exp(lq), np.exp(lv)
        rel = pp * (vv + xs * m_used) / (pp * xs + qq - 1.0) / expected_spend
        eta1 += weight * rel
        eta2 += weight * rel * rel

    # the two parts of G | N >= 1 (times the spend factor), each -> Gamma(shape, rate)
    bought = pos > 0
    d_pos = pos - s_pos
    use_s = s_pos > _MIN_PART * pos
    use_d = d_pos > _MIN_PART * pos
    with np.errstate(divide="ignore", invalid="ignore"):
        weight_s = np.where(use_s, np.where(use_d, s_pos / pos, 1.0), 0.0)
        ks, rs = _gamma_from_moments(eta1 * p_gg * s1 / s_pos, eta2 * (p_gg * s1 + p_gg * p_gg * s2) / s_pos)
        d1, d2 = m1 - s1, m2 - s2
        kd, rd = _gamma_from_moments(eta1 * p_gg * d1 / d_pos, eta2 * (p_gg * d1 + p_gg * p_gg * d2) / d_pos)
    one = np.ones(len(sel))
    factor = margin[sel] * ratio[sel]
    fields = {
        "p_zero": np.where(bought, 1.0 - pos, 1.0),
        "scale": np.where(bought, factor * v_post, 0.0),
        "weight_survive": np.where(bought, weight_s, 0.0),
        "shape_survive": np.where(use_s & bought, ks, one),
        "rate_survive": np.where(use_s & bought, rs, one),
        "shape_drop": np.where(use_d & bought, kd, one),
        "rate_drop": np.where(use_d & bought, rd, one),
        "shape_spend": q_post,
        "mean": factor * eta1 * expected_spend * m1,
    }
    out = {}
    for name, values in fields.items():
        full = np.full(n, np.nan)
        full[sel] = np.where(alive_failed, np.nan, values)  # P(alive) missing at some point
        out[name] = full
    return ClvValueDistribution(**out)


def clv_intervals(
    model_name: str,
    purchase_params: PurchaseParams,
    purchase_log_covariance: ArrayLike | None,
    gamma_gamma_params: Mapping[str, float] | Sequence[float],
    gg_log_covariance: ArrayLike | None,
    frequency: ArrayLike,
    T: ArrayLike,
    monetary: ArrayLike,
    probability_alive: AliveInput,
    margin_rate: float | ArrayLike,
    discount_ratio: float | ArrayLike,
    horizon_weeks: float,
    level: float = 0.8,
) -> tuple[FloatArray, FloatArray]:
    """``(predicted_clv_low, predicted_clv_high)``: an interval per customer that holds the
    value of the next ``horizon_weeks`` with probability ``level`` under
    :func:`clv_value_distribution` (arguments as there).

    The atom at zero (no purchase at all, probability P0) decides the shape:

    * P0 < (1 - level)/2: the central interval [q_(1-level)/2, q_(1+level)/2];
    * (1 - level)/2 <= P0 < level: [0, q_level] (the interval must contain 0, and this
      one covers exactly ``level``; the central one would cover (1+level)/2);
    * P0 >= level: [0, 0], which covers P0: no interval can cover less and contain any
      mass.  These customers are over-covered by construction; report coverage with
      that in mind (:meth:`ClvValueDistribution.randomized_pit` is exact).

    With a negative margin the interval is mirrored.  NaN inputs give NaN bounds.
    """
    dist = clv_value_distribution(
        model_name,
        purchase_params,
        purchase_log_covariance,
        gamma_gamma_params,
        gg_log_covariance,
        frequency,
        T,
        monetary,
        probability_alive,
        margin_rate,
        discount_ratio,
        horizon_weeks,
    )
    return dist.interval(level)


def discount_ratio(
    predicted_clv: ArrayLike, expected_purchases: ArrayLike, expected_spend: ArrayLike, margin_rate: float | ArrayLike
) -> FloatArray:
    """Per customer, predicted CLV / its undiscounted value (expected purchases x expected
    spend x margin): the average discount factor of the customer's expected purchases,
    for :func:`clv_value_distribution` (e.g. from :class:`customer_value.clv.ClvPrediction`'s
    arrays).  1 where the undiscounted value is 0 (the value is then 0 anyway); NaN where
    the predicted CLV is."""
    clv = as_float_array(predicted_clv, "predicted_clv")
    undiscounted = (
        as_float_array(expected_purchases, "expected_purchases")
        * as_float_array(expected_spend, "expected_spend")
        * _broadcast(margin_rate, len(clv), "margin_rate")
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(undiscounted != 0, clv / undiscounted, 1.0)
    return np.where(np.isfinite(clv), ratio, np.nan)
