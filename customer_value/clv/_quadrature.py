"""Vectorised quadrature of log-concave integrands, one integral per row.

Used where a closed form has no stable evaluation everywhere: the Pareto/NBD's tail
integrals when the two Gamma rates differ by a large factor, and the integral in its
P(X(t) = x).  A log-concave h is unimodal and falls off at least exponentially away from
its mode, so the integral is found by (1) locating the window where log h is within
``DROP`` nats of its maximum (what lies outside is below e^-DROP of the peak and decays
geometrically), and (2) composite Gauss-Legendre on that window, with panels that grow
geometrically away from the mode (fine where h turns, coarse in the exponential tails).
The same nodes integrate any number of extra weight functions g (h's derivatives with
respect to parameters, for analytic gradients), so values and gradients are consistent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.polynomial.legendre import leggauss

from ._common import FloatArray

#: log h at the window ends is this far below its maximum
DROP = 42.0
_NODES = 12  # Gauss-Legendre nodes per panel
_PANELS = 10  # panels on each side of the mode
_GROWTH = 1.45  # ratio of consecutive panel lengths away from the mode
_GL_X, _GL_W = leggauss(_NODES)
#: the window's ends need not be exact (h is below e^-DROP of its peak there): the
#: bracket is halved this many times
_BISECTIONS = 24


def _panel_fractions() -> FloatArray:
    """Panel boundaries on [0, 1] (0 = the mode), lengths growing by _GROWTH."""
    lengths = _GROWTH ** np.arange(_PANELS)
    return np.concatenate([[0.0], np.cumsum(lengths) / lengths.sum()])


_FRACTIONS = _panel_fractions()


def _window_end(
    log_h: Callable[[FloatArray], FloatArray], y_c: FloatArray, level: FloatArray, limit: FloatArray, direction: float
) -> FloatArray:
    """Where log h falls to ``level`` going from the mode ``y_c`` in ``direction`` (+1 or
    -1), or ``limit`` (the end of the integration range) if it does not fall that far
    before it.  Doubling steps bracket the point, bisection refines it (log h is concave,
    so below-level once means below-level from there on)."""
    n = len(y_c)
    span = np.abs(limit - y_c)
    at_limit = np.zeros(n, dtype=bool)
    finite_limit = np.isfinite(limit)
    if finite_limit.any():
        lim = np.where(finite_limit, limit, y_c)
        at_limit = finite_limit & (log_h(lim) >= level)
    inside = np.zeros(n)  # offsets known to be above the level
    step = np.full(n, 0.5)
    todo = ~at_limit
    for _ in range(80):  # 0.5 * 2**80: further than any double-precision range needs
        if not todo.any():
            break
        trial = np.minimum(step, span)
        below = log_h(y_c + direction * trial) < level
        grow = todo & ~below
        inside = np.where(grow, trial, inside)
        step = np.where(grow, 2.0 * step, step)
        todo &= ~below
    outside = np.minimum(step, span)
    for _ in range(_BISECTIONS):
        mid = 0.5 * (inside + outside)
        below = log_h(y_c + direction * mid) < level
        outside = np.where(below, mid, outside)
        inside = np.where(below, inside, mid)
    return np.where(at_limit, limit, y_c + direction * outside)


def log_concave_integral(
    log_h: Callable[[FloatArray], FloatArray],
    y_min: FloatArray,
    y_max: FloatArray,
    y_mode: FloatArray,
    at_nodes: Callable[[FloatArray], tuple[FloatArray, Sequence[FloatArray]]] | None = None,
) -> tuple[FloatArray, list[FloatArray]]:
    """``log ∫ h`` over [y_min, y_max] (either end may be infinite) for log-concave h,
    and ``∫ g h / ∫ h`` for weight functions g.

    ``log_h(y)`` takes a ``(n,)`` array (one point per row).  ``at_nodes(y)`` takes the
    ``(n, k)`` quadrature nodes and returns ``(log_h(y), [g_1(y), g_2(y), ...])``, so that
    the weight functions share work with log h (default: log h alone, no weights).
    ``y_mode`` is where h is largest on [y_min, y_max] (an end when h is monotone there).
    """
    n = len(y_mode)
    y_c = np.clip(y_mode, y_min, y_max)
    l_c = log_h(y_c)
    level = l_c - DROP
    hi = _window_end(log_h, y_c, level, np.broadcast_to(y_max, (n,)).astype(float), 1.0)
    lo = _window_end(log_h, y_c, level, np.broadcast_to(y_min, (n,)).astype(float), -1.0)
    # panels on [y_c, hi] and [lo, y_c], each side's nodes as one (n, PANELS * NODES) block
    nodes_list, weights_list = [], []
    for end in (hi, lo):
        width = (end - y_c)[:, None]
        a = y_c[:, None] + width * _FRACTIONS[None, :-1]
        b = y_c[:, None] + width * _FRACTIONS[None, 1:]
        half = 0.5 * (b - a)
        nodes = (0.5 * (a + b))[:, :, None] + half[:, :, None] * _GL_X[None, None, :]
        nodes_list.append(nodes.reshape(n, -1))
        weights_list.append((np.abs(half)[:, :, None] * _GL_W[None, None, :]).reshape(n, -1))
    y = np.concatenate(nodes_list, axis=1)
    w = np.concatenate(weights_list, axis=1)
    log_values, weights = (log_h(y), []) if at_nodes is None else at_nodes(y)
    with np.errstate(under="ignore"):
        h = w * np.exp(log_values - l_c[:, None])
    total = h.sum(axis=1)
    means = [(g * h).sum(axis=1) / total for g in weights]
    return l_c + np.log(total), means


def decreasing_root(
    f: Callable[[FloatArray], FloatArray], lo: FloatArray, hi: FloatArray, iterations: int = 200
) -> FloatArray:
    """The root of a decreasing ``f`` (vectorised, one per row), by widening the bracket
    [lo, hi] until f(lo) >= 0 >= f(hi) and then bisecting: where a log-concave
    integrand's derivative vanishes."""
    lo = np.asarray(lo, dtype=np.float64).copy()
    hi = np.asarray(hi, dtype=np.float64).copy()
    for _ in range(60):
        low_bad = f(lo) < 0
        high_bad = f(hi) > 0
        if not (low_bad.any() or high_bad.any()):
            break
        width = hi - lo
        lo = np.where(low_bad, lo - width, lo)
        hi = np.where(high_bad, hi + width, hi)
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        positive = f(mid) > 0
        lo = np.where(positive, mid, lo)
        hi = np.where(positive, hi, mid)
        if np.all(hi - lo <= 1e-12 * (1.0 + np.abs(mid))):
            break
    return 0.5 * (lo + hi)


def segmented_log_cumsum(log_values: FloatArray, segment_start: np.ndarray) -> FloatArray:
    """``log(cumsum(exp(v)))`` restarted at every segment: row i gets the log of the sum of
    exp(log_values) from the start of its segment (a row where ``segment_start`` is True)
    to i.  ``log_values`` is ``(n,)`` or ``(n, c)`` (c columns summed independently).

    ``np.logaddexp.accumulate`` on segments laid out as rows of a 2-D block, one block per
    power-of-two length class (so padding at most doubles the work); no exp of large
    values, no underflow, no subtraction.
    """
    values = np.asarray(log_values, dtype=np.float64)
    n = len(values)
    out = np.empty_like(values)
    if n == 0:
        return out
    starts = np.flatnonzero(segment_start)
    lengths = np.diff(np.r_[starts, n])
    length_class = np.ceil(np.log2(lengths)).astype(np.int64)
    for cls in np.unique(length_class):
        segments = np.flatnonzero(length_class == cls)
        width = int(lengths[segments].max())
        offsets = np.arange(width)
        rows = starts[segments][:, None] + offsets[None, :]
        inside = offsets[None, :] < lengths[segments][:, None]
        block = values[np.where(inside, rows, 0)]
        block[~inside] = -np.inf
        with np.errstate(invalid="ignore"):
            running = np.logaddexp.accumulate(block, axis=1)
        out[rows[inside]] = running[inside]
    return out
