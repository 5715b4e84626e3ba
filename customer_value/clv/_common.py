"""Shared plumbing for the CLV models: errors, input coercion, de-duplication,
the bounded optimiser wrapper and the numerical Hessian used for standard errors."""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize

FloatArray = NDArray[np.float64]

#: Fewer customers (total weight) than this and a model is not fitted at all:
#: four (BG/NBD) or three (Gamma-Gamma) heterogeneity parameters cannot be
#: estimated from a handful of people, whatever the optimiser says.
MIN_CUSTOMERS = 10

#: Bounds on every optimised log-parameter.  Data are rescaled before the fit
#: (time by max(T)/10, money by its mean), so a well identified model sits far
#: inside them; an estimate that runs into a bound signals a degenerate likelihood
#: (e.g. no heterogeneity at all) and the fit is reported as not converged.
LOG_PARAM_BOUND = 13.8  # exp(13.8) ~ 1e6
_AT_BOUND_TOL = 1e-2

#: A log-parameter whose standard error (in log space) exceeds this is treated as
#: not identified: the data cannot tell the value from one e^5 (~150x) larger or
#: smaller, so the fit is reported as not converged.
MAX_LOG_PARAM_SE = 5.0


#: Threads used for the per-row parts of the likelihoods (numpy releases the GIL in
#: its ufuncs, so two threads give ~1.8x on two cores).  Override with the
#: environment variable CLV_THREADS (1 disables threading).
N_THREADS = max(1, int(os.environ.get("CLV_THREADS", min(2, os.cpu_count() or 1))))
_PARALLEL_MIN_ROWS = 100_000
#: Big inputs are always cut into this many chunks, whatever the number of threads, so
#: that the per-chunk sums (and therefore every fit) are the same bit for bit on any
#: machine and with any CLV_THREADS.
_PARALLEL_CHUNKS = 4
_executor: ThreadPoolExecutor | None = None
_THREAD_PREFIX = "clv-chunk"
_T = TypeVar("_T")


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Limit OpenBLAS to one thread while fitting (via ``threadpoolctl`` if installed).

    L-BFGS-B calls BLAS on 3- and 4-vectors every iteration; OpenBLAS waking its
    thread pool for them made each call ~5x slower on 2 shared cores, and its threads
    compete with ours (:func:`chunked_map`).  Without threadpoolctl this is a no-op.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional speed-up
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


_F = TypeVar("_F", bound=Callable[..., Any])


def blas_single_threaded(fn: _F) -> _F:
    """Decorator form of :func:`single_threaded_blas`."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with single_threaded_blas():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def vdot(a: FloatArray, b: FloatArray) -> float:
    """Dot product of two 1-D arrays without BLAS: OpenBLAS' threaded ``ddot`` is
    erratic (10x slower) when the cores are shared with our own threads or other
    processes, ``einsum`` is single-threaded and steady."""
    return float(np.einsum("i,i->", a, b))


def chunked_map(fn: Callable[[slice], _T], n: int, min_rows: int | None = None) -> list[_T]:
    """``[fn(s) for s in slices]`` over a split of ``range(n)``, in threads for large n
    (``min_rows`` or more; default ``_PARALLEL_MIN_ROWS``, for cheap per-row work).

    The split depends on n only (never on the number of threads), and the results come
    back in chunk order, so that sums over them do not change with the thread count.
    Called from inside one of its own chunks (e.g. a Pareto/NBD tail integral within a
    chunk of predict_clv) it runs the chunks in the calling thread: the pool's threads
    are busy with the outer chunks, and waiting for them would deadlock."""
    global _executor
    if n < (_PARALLEL_MIN_ROWS if min_rows is None else min_rows):
        return [fn(slice(0, n))]
    bounds = np.linspace(0, n, _PARALLEL_CHUNKS + 1).astype(int)
    slices = [slice(bounds[i], bounds[i + 1]) for i in range(_PARALLEL_CHUNKS)]
    if N_THREADS == 1 or threading.current_thread().name.startswith(_THREAD_PREFIX):
        return [fn(s) for s in slices]
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=N_THREADS, thread_name_prefix=_THREAD_PREFIX)
    return list(_executor.map(fn, slices))


@dataclass(frozen=True)
class CountMoments:
    """How many purchase days a customer makes in the next ``t`` weeks after their T,
    given their own history (x, t_x, T) and a purchase model's parameters: the
    posterior predictive distribution's mass at zero and its first two moments.

    Every purchase model (BG/NBD, MBG/NBD, Pareto/NBD) gives these in the same form, so
    the CLV interval (``customer_value.clv.intervals``) works with any of them; ``mean``
    equals the model's conditional expected purchases.
    """

    #: P(N(t) = 0 | x, t_x, T): no purchase at all in the period (dead, or alive and silent)
    p_zero: FloatArray
    #: E[N(t) | x, t_x, T]
    mean: FloatArray
    #: E[N(t)^2 | x, t_x, T]
    second_moment: FloatArray


class ModelNotFittedError(ValueError):
    """Raised by the prediction functions when handed a fit with ``converged=False``.

    The message carries the fit's own reason (``fit.message``).  Callers that must
    never raise (e.g. a dbt Python model) use :func:`customer_value.clv.predict_clv`,
    which turns this into NULL predictions plus a reason column instead.
    """


@dataclass(frozen=True, kw_only=True)
class FitFields:
    """What every model's fit result (the purchase models' and Gamma-Gamma's) holds
    besides its parameters, which the model's subclass declares (positional, first; these
    fields are keyword-only), naming them in ``PARAM_NAMES`` (in order) and its model in
    ``MODEL_LABEL`` (used in messages).

    When ``converged`` is False the parameters are NaN, ``message`` says why, and every
    prediction function raises :class:`ModelNotFittedError` instead of returning numbers.
    ``log_likelihood`` is the *total* (weighted) log-likelihood in the caller's units
    (weeks; the currency of the spend), without penalty.
    """

    PARAM_NAMES: ClassVar[tuple[str, ...]]
    MODEL_LABEL: ClassVar[str]

    log_likelihood: float
    n_customers: int
    converged: bool
    message: str
    #: sum of the weights of the customers used (== n_customers without weights)
    total_weight: float = 0.0
    #: rows dropped: invalid ones (non-finite, negative, non-integer x, t_x > T, weight <= 0)
    #: and, for Gamma-Gamma, one-time buyers (frequency 0) and monetary <= 0 or missing
    n_excluded: int = 0
    #: asymptotic standard errors from the numerical Hessian of the log-likelihood at the
    #: optimum (delta method from the log-parameters); None when not converged
    standard_errors: dict[str, float] | None = field(default=None, compare=False)
    penalizer: float = 0.0
    iterations: int = 0
    #: asymptotic covariance of the log-parameters the fit optimises, in PARAM_NAMES order
    #: (the inverse Hessian of the negative log-likelihood; the same in any time or
    #: currency unit), for drawing parameters that are as uncertain as the fit; None when
    #: not converged
    log_covariance: tuple[tuple[float, ...], ...] | None = field(default=None, compare=False)

    @property
    def params(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in self.PARAM_NAMES}

    def require_fitted(self) -> tuple[float, ...]:
        """The parameters in order, or :class:`ModelNotFittedError` carrying ``message``."""
        if not self.converged:
            raise ModelNotFittedError(f"{self.MODEL_LABEL} model not fitted: {self.message}")
        return tuple(getattr(self, name) for name in self.PARAM_NAMES)


def as_float_array(values: ArrayLike, name: str) -> FloatArray:
    """1-D float64 copy-free view of ``values`` (lists, numpy, pandas, pyarrow)."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def check_same_length(**arrays: FloatArray) -> int:
    lengths = {name: len(arr) for name, arr in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"input arrays differ in length: {lengths}")
    return next(iter(lengths.values()), 0)


def coerce_weights(weights: ArrayLike | None, n: int) -> FloatArray:
    if weights is None:
        return np.ones(n, dtype=np.float64)
    w = as_float_array(weights, "weights")
    if len(w) != n:
        raise ValueError(f"weights has length {len(w)}, expected {n}")
    return w


def bincount_f64(codes: NDArray[np.int64], weights: FloatArray | None, size: int) -> FloatArray:
    """``np.bincount`` as float64 (weighted sums of rows per code)."""
    return np.bincount(codes, weights=weights, minlength=size).astype(np.float64, copy=False)


def column_codes(col: FloatArray) -> tuple[FloatArray, NDArray[np.int64]]:
    """``(table, codes)`` with ``table[codes] == col`` (up to rounding on a grid).

    Fast paths without sorting: integer-valued columns (frequency) and columns on a
    1/7 grid (days / 7, i.e. recency and T in weeks) whose range is not much larger
    than the number of rows; ``table`` then holds every grid value in the range, used
    or not.  Otherwise ``np.unique(..., return_inverse=True)``.
    """
    n = len(col)
    lo, hi = (float(col.min()), float(col.max())) if n else (0.0, 0.0)
    if n and np.isfinite(lo) and np.isfinite(hi):
        for k in (1.0, 7.0):
            span = (hi - lo) * k
            if span > max(4 * n, 4096):
                continue
            head = col[:256] * k
            tol = 1e-9 * max(1.0, abs(lo * k), abs(hi * k))
            if np.any(np.abs(head - np.rint(head)) > tol):  # cheap rejection
                continue
            s = col * k if k != 1.0 else col
            d = np.rint(s)
            dev = np.subtract(s, d)
            np.abs(dev, out=dev)
            if dev.max() <= tol:
                start = np.rint(lo * k)
                d -= start
                codes = d.astype(np.int64)
                table = (start + np.arange(int(np.rint(hi * k) - start) + 1, dtype=np.float64)) / k
                return table, codes
    uniq, inv = np.unique(col, return_inverse=True)
    return uniq.astype(np.float64), inv.reshape(-1).astype(np.int64)


@dataclass(frozen=True)
class DistinctRows:
    """Distinct combinations of several columns.

    ``tables[j][codes[j][i]]`` is column j of combination i; ``weight[i]`` the summed
    weight (row count without weights) and ``inverse`` (if requested) the combination
    of every input row.
    """

    tables: list[FloatArray]
    codes: list[NDArray[np.int64]]
    weight: FloatArray
    inverse: NDArray[np.int64] | None

    def values(self, j: int) -> FloatArray:
        return self.tables[j][self.codes[j]]

    def __len__(self) -> int:
        return len(self.weight)


def distinct_rows(
    columns: Sequence[FloatArray], weights: FloatArray | None = None, return_inverse: bool = False
) -> DistinctRows:
    """De-duplicate the stacked ``columns`` (equivalent to ``np.unique(np.column_stack
    (columns), axis=0)`` with counts, but ~10x faster on a million rows).

    Every column is coded to small integers (:func:`column_codes`), the codes are
    combined into one int64 key, and the keys are de-duplicated: by direct indexing
    when the key range is small, else by sorting (a plain sort when neither weights
    nor the inverse are needed, which is much cheaper than an argsort).
    """
    tabs, cods = zip(*(column_codes(c) for c in columns)) if columns else ((), ())
    n = len(columns[0]) if columns else 0
    sizes = [len(t) for t in tabs]
    capacity = float(np.prod([float(sz) for sz in sizes])) if sizes else 0.0
    if n == 0:
        return DistinctRows(
            list(tabs), [c[:0] for c in cods], np.zeros(0), np.zeros(0, np.int64) if return_inverse else None
        )
    if capacity >= 2**62:  # cannot happen for <= 3 columns and n < 2**20; be safe anyway
        stacked = np.column_stack(columns)
        _, first, inv_s, counts = np.unique(stacked, axis=0, return_index=True, return_inverse=True, return_counts=True)
        inv = inv_s.reshape(-1).astype(np.int64)
        w = counts.astype(np.float64) if weights is None else bincount_f64(inv, weights, len(first))
        return DistinctRows(list(tabs), [c[first] for c in cods], w, inv if return_inverse else None)
    key = np.zeros(n, dtype=np.int64)
    for c, sz in zip(cods, sizes):
        key = key * sz + c
    inverse: NDArray[np.int64] | None = None
    if capacity <= max(4 * n, 1 << 16):
        present = np.zeros(int(capacity), dtype=bool)
        present[key] = True
        ukey = np.flatnonzero(present)
        if weights is None and not return_inverse:
            w = bincount_f64(key, None, int(capacity))[ukey]
        else:
            lut = np.zeros(int(capacity), dtype=np.int64)
            lut[ukey] = np.arange(len(ukey))
            inverse = lut[key]
            w = bincount_f64(inverse, weights, len(ukey))
    elif weights is None and not return_inverse:
        ukey, counts = np.unique(key, return_counts=True)
        w = counts.astype(np.float64)
    else:
        ukey, inv_u, counts = np.unique(key, return_inverse=True, return_counts=True)
        inverse = inv_u.reshape(-1).astype(np.int64)
        w = counts.astype(np.float64) if weights is None else bincount_f64(inverse, weights, len(ukey))
    codes_out: list[NDArray[np.int64]] = []
    rest = ukey
    for sz in reversed(sizes):
        rest, c = np.divmod(rest, sz)
        codes_out.append(c)
    codes_out.reverse()
    return DistinctRows(list(tabs), codes_out, w, inverse if return_inverse else None)


@dataclass(frozen=True)
class OptimResult:
    x: FloatArray
    fun: float
    success: bool
    message: str
    iterations: int
    max_abs_grad: float
    #: gradient of the objective at x
    grad: FloatArray


def minimize_log_params(
    fun_and_grad: Callable[[FloatArray], tuple[float, FloatArray]],
    starts: Sequence[FloatArray],
    bound: float = LOG_PARAM_BOUND,
    max_iter: int = 1000,
) -> OptimResult:
    """L-BFGS-B on the log-parameters from several starting points; best result wins.

    ``fun_and_grad`` returns the objective (mean negative log-likelihood plus
    penalty) and its analytic gradient.  Non-finite values are mapped to a large
    finite objective so the line search backs off instead of aborting.
    """

    def safe(theta: FloatArray) -> tuple[float, FloatArray]:
        with np.errstate(all="ignore"):
            f, g = fun_and_grad(theta)
        if not np.isfinite(f) or not np.all(np.isfinite(g)):
            return 1e100, np.zeros_like(theta)
        return float(f), g

    best: OptimResult | None = None
    for x0 in starts:
        x0 = np.clip(np.asarray(x0, dtype=np.float64), -bound + 1.0, bound - 1.0)
        res = minimize(
            safe,
            x0,
            jac=True,
            method="L-BFGS-B",
            bounds=[(-bound, bound)] * len(x0),
            options={"maxiter": max_iter, "ftol": 1e-14, "gtol": 1e-9, "maxcor": 10},
        )
        f, g = float(res.fun), np.asarray(res.jac, dtype=np.float64)
        # projected gradient: components pushing outwards at an active bound do not count
        at_lower = res.x <= -bound + 1e-12
        at_upper = res.x >= bound - 1e-12
        g_proj = np.where((at_lower & (g > 0)) | (at_upper & (g < 0)), 0.0, g)
        cand = OptimResult(
            x=np.asarray(res.x, dtype=np.float64),
            fun=f,
            success=bool(res.success),
            message=str(res.message),
            iterations=int(res.nit),
            max_abs_grad=float(np.max(np.abs(g_proj))) if len(g_proj) else 0.0,
            grad=g,
        )
        if best is None or cand.fun < best.fun:
            best = cand
    assert best is not None
    return best


def newton_polish(
    fun_and_grad: Callable[[FloatArray], tuple[float, FloatArray]],
    theta0: FloatArray,
    bound: float = LOG_PARAM_BOUND,
    gtol: float = 1e-9,
    max_iter: int = 30,
) -> OptimResult | None:
    """Newton iterations from a good start, with the finite-difference Hessian taken
    once at the start and kept (plus an Armijo backtracking line search).

    Used after a warm start on a thinned copy of large data: the start is within a few
    standard errors of the optimum, so a fixed Hessian contracts the error by ~100x per
    step and 3-5 full-data evaluations finish the job, where L-BFGS-B would spend ~15
    building its curvature model from scratch.  Returns None (caller falls back to
    L-BFGS-B) if the Hessian is not positive definite, a step leaves the bounds or the
    line search or iteration budget fails.
    """
    theta = np.asarray(theta0, dtype=np.float64)
    with np.errstate(all="ignore"):
        f, g = fun_and_grad(theta)
        if not np.isfinite(f) or not np.all(np.isfinite(g)):
            return None
        hess = numerical_hessian(lambda th: fun_and_grad(th)[1], theta, grad_at_x=g)
    try:
        chol = np.linalg.cholesky(hess)
    except np.linalg.LinAlgError:
        return None
    for it in range(1, max_iter + 1):
        if np.max(np.abs(g)) <= gtol:
            return OptimResult(theta, f, True, "Newton: gradient below tolerance", it - 1, float(np.max(np.abs(g))), g)
        step = np.linalg.solve(chol.T, np.linalg.solve(chol, g))
        slope = float(g @ step)
        t = 1.0
        for _ in range(20):
            cand = theta - t * step
            if np.all(np.abs(cand) < bound):
                with np.errstate(all="ignore"):
                    f_new, g_new = fun_and_grad(cand)
                if np.isfinite(f_new) and np.all(np.isfinite(g_new)) and f_new <= f - 1e-4 * t * slope:
                    break
                if np.isfinite(f_new) and abs(f_new - f) <= 1e-15 * max(1.0, abs(f)) and t < 1e-3:
                    break  # at the noise floor of the objective: no further progress possible
            t *= 0.5
        else:
            return None
        theta, f, g = cand, float(f_new), g_new
    if np.max(np.abs(g)) <= 10 * gtol:
        return OptimResult(theta, f, True, "Newton: gradient below tolerance", max_iter, float(np.max(np.abs(g))), g)
    return None


def optimise_log_params(
    fun_and_grad: Callable[[FloatArray], tuple[float, FloatArray]],
    start: FloatArray,
    warm_fun_and_grad: Callable[[FloatArray], tuple[float, FloatArray]] | None = None,
) -> OptimResult:
    """Optimise the objective from ``start``.  With ``warm_fun_and_grad`` (a cheap
    approximation, e.g. on thinned data) first optimise that by L-BFGS-B, then polish on
    the real objective with :func:`newton_polish` (L-BFGS-B if that fails)."""
    if warm_fun_and_grad is not None:
        warm = minimize_log_params(warm_fun_and_grad, [start])
        if np.all(np.abs(warm.x) < LOG_PARAM_BOUND - 1.0):
            polished = newton_polish(fun_and_grad, warm.x)
            if polished is not None:
                return polished
            start = warm.x
    return minimize_log_params(fun_and_grad, [start])


def numerical_hessian(
    grad: Callable[[FloatArray], FloatArray],
    x: FloatArray,
    step: float = 1e-5,
    grad_at_x: FloatArray | None = None,
) -> FloatArray:
    """Symmetrised finite-difference Hessian from an analytic gradient.

    Central differences ``(g(x + h e_i) - g(x - h e_i)) / 2h`` (2k gradient calls), or,
    when ``grad_at_x`` is given, forward differences ``(g(x + h e_i) - g(x)) / h``
    (k calls, truncation error O(h) ~ 1e-5 relative: ample for standard errors).
    The result is symmetrised, ``(H + H.T) / 2``.
    """
    x = np.asarray(x, dtype=np.float64)
    k = len(x)
    hess = np.empty((k, k), dtype=np.float64)
    for i in range(k):
        e = np.zeros(k)
        e[i] = step
        if grad_at_x is None:
            hess[i] = (grad(x + e) - grad(x - e)) / (2.0 * step)
        else:
            hess[i] = (grad(x + e) - grad_at_x) / step
    return 0.5 * (hess + hess.T)


def log_space_standard_errors(
    total_nll_hessian: FloatArray,
) -> tuple[FloatArray | None, str]:
    """Covariance of the log-parameters from the Hessian of the *total* negative
    log-likelihood, or ``(None, reason)`` when it is not positive definite."""
    if not np.all(np.isfinite(total_nll_hessian)):
        return None, "Hessian of the log-likelihood is not finite"
    try:
        np.linalg.cholesky(total_nll_hessian)
    except np.linalg.LinAlgError:
        return None, "Hessian of the log-likelihood is not positive definite (parameters not identified)"
    cov = np.asarray(np.linalg.inv(total_nll_hessian), dtype=np.float64)
    return cov, ""


def check_identified(
    theta: FloatArray,
    names: Sequence[str],
    opt: OptimResult,
    log_cov: FloatArray | None,
    cov_reason: str,
    bound: float = LOG_PARAM_BOUND,
) -> str:
    """Empty string when the optimum is a usable interior MLE, else the reason."""
    at_bound = [n for n, t in zip(names, theta) if abs(t) >= bound - _AT_BOUND_TOL]
    if at_bound:
        return (
            "parameter(s) " + ", ".join(at_bound) + " ran into the optimiser bound: the likelihood "
            "has no interior maximum for these data (degenerate / not identifiable)"
        )
    if not opt.success and opt.max_abs_grad > 1e-5:
        return f"optimiser did not converge: {opt.message} (max |gradient| {opt.max_abs_grad:.2e})"
    if log_cov is None:
        return cov_reason
    se = np.sqrt(np.diag(log_cov))
    loose = [n for n, s in zip(names, se) if not np.isfinite(s) or s > MAX_LOG_PARAM_SE]
    if loose:
        return (
            "parameter(s) " + ", ".join(loose) + " not identified by the data "
            f"(standard error of the log-parameter > {MAX_LOG_PARAM_SE})"
        )
    return ""
