"""Ground-truth simulators for the CLV interval tests: BG/NBD, MBG/NBD and Pareto/NBD
purchases with Gamma-Gamma spend, each customer's summary at T and the value they
actually produce in the following horizon, written independently of
customer_value.clv (only numpy's random generators).

Purchase stories (lambda ~ Gamma(r, rate alpha) purchases per week while alive):

* BG/NBD: after every repeat purchase the customer drops out with p ~ Beta(a, b), so
  the repeat purchases ever made are J ~ Geometric(p) on {1, 2, ...};
* MBG/NBD: the first purchase is a drop-out chance too: D = Geometric(p) - 1 on
  {0, 1, ...} repeat purchases are ever made;
* Pareto/NBD: the lifetime is tau ~ Exp(mu), mu ~ Gamma(s, rate beta).

Spend: nu ~ Gamma(q, rate v), every purchase day is worth Gamma(p, rate nu).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WEEKS_PER_MONTH = 365.25 / 12.0 / 7.0
MAX_DAYS = 3 * 365


@dataclass
class Population:
    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    monetary: np.ndarray  # NaN for x = 0
    alive: np.ndarray  # alive at T
    future_days: np.ndarray  # purchase days in (T, T + horizon]
    future_value: np.ndarray  # their summed value, discounted by month
    lam: np.ndarray
    nu: np.ndarray


def _order_statistic(rng: np.random.Generator, k: np.ndarray, j: np.ndarray) -> np.ndarray:
    """The j-th smallest of k uniforms on (0, 1) (j >= 1, k >= j): Beta(j, k - j + 1)."""
    out = np.zeros(len(k))
    pos = j > 0
    out[pos] = rng.beta(j[pos], k[pos] - j[pos] + 1)
    return out


def _first_event_times(rng: np.random.Generator, counts: np.ndarray, take: np.ndarray, span: np.ndarray):
    """For each customer, ``counts`` uniform times on (0, span); returns (owner, time) of the
    ``take`` smallest of them (take <= counts)."""
    owner = np.repeat(np.arange(len(counts)), counts)
    times = rng.random(len(owner)) * span[owner]
    order = np.lexsort((times, owner))
    owner, times = owner[order], times[order]
    starts = np.cumsum(counts) - counts
    rank = np.arange(len(owner)) - starts[owner]
    keep = rank < take[owner]
    return owner[keep], times[keep]


def simulate(
    model: str,
    n: int,
    seed: int,
    purchase: dict,
    spend: dict,
    horizon_weeks: float = 12 * WEEKS_PER_MONTH,
    annual_discount_rate: float = 0.0,
    max_days: int = MAX_DAYS,
) -> Population:
    """``n`` customers of ``model`` ("bg_nbd", "mbg_nbd", "pareto_nbd") with T uniform in
    whole days up to ``max_days``; purchase times are continuous (no same-day merging)."""
    rng = np.random.default_rng(seed)
    T = rng.integers(0, max_days + 1, n) / 7.0
    lam = rng.gamma(purchase["r"], 1.0 / purchase["alpha"], n)
    t = horizon_weeks
    if model in ("bg_nbd", "mbg_nbd"):
        p = rng.beta(purchase["a"], purchase["b"], n)
        k = rng.poisson(lam * T)
        budget = rng.geometric(p) - (1 if model == "mbg_nbd" else 0)  # repeat purchases ever made
        x = np.minimum(k, budget)
        alive = budget > k
        t_x = T * _order_statistic(rng, k, x)
        k_future = np.where(alive, rng.poisson(lam * t), 0)
        n_future = np.minimum(k_future, np.where(alive, budget - k, 0))
        owner, times = _first_event_times(rng, k_future, n_future, np.full(n, t))
    elif model == "pareto_nbd":
        mu = rng.gamma(purchase["s"], 1.0 / purchase["beta"], n)
        tau = rng.exponential(1.0 / mu)
        life = np.minimum(tau, T)
        x = rng.poisson(lam * life)
        alive = tau > T
        t_x = life * _order_statistic(rng, x, x)
        span = np.where(alive, np.minimum(tau - T, t), 0.0)
        n_future = rng.poisson(lam * span)
        owner, times = _first_event_times(rng, n_future, n_future, span)
    else:
        raise ValueError(model)
    nu = rng.gamma(spend["q"], 1.0 / spend["v"], n)
    rep = x > 0
    monetary = np.full(n, np.nan)
    monetary[rep] = rng.gamma(spend["p"] * x[rep], 1.0 / nu[rep]) / x[rep]
    values = rng.gamma(spend["p"], 1.0 / nu[owner])
    month = np.ceil(times / WEEKS_PER_MONTH)
    discount = ((1.0 + annual_discount_rate) ** (1.0 / 12.0)) ** -month
    future_value = np.bincount(owner, weights=values * discount, minlength=n)
    return Population(
        x=x.astype(np.float64),
        t_x=t_x,
        T=T,
        monetary=monetary,
        alive=alive,
        future_days=n_future,
        future_value=future_value,
        lam=lam,
        nu=nu,
    )
