"""Referrals as a Gamma-Poisson process.

Customer i makes referrals at rate ``rho_i`` per week from ``created_at`` on
(``rho_i = scale * Gamma(shape, 1)``, a larger shape and scale for influencers); each
converts with probability ``referral_conversion``. Converted referrals therefore form
independent Poisson processes with rates ``conversion * rho_i``; their superposition at
time t has intensity ``conversion * R(t)`` with ``R(t)`` the summed rate of everyone
created before t. Given the customers' arrival times, an arrival at t is a referee with
probability ``conversion * R(t) / g(t)`` (``g`` the total arrival intensity) and then
comes from referrer i with probability ``rho_i / R(t)`` -- which is what
:func:`assign_referrers` draws. ``scale`` is calibrated so that about
``referee_share`` of customers are referees. Non-converted referrals are the other
thinning, Poisson with mean ``(1 - conversion) * rho_i * exposure_i``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from . import schema
from .config import DAY, REFERRAL_CHANNELS, WEEK, GeneratorConfig, ReferenceData

if TYPE_CHECKING:
    from .customers import Population

MAX_REFEREE_PROBABILITY = 0.95


def assign_referrers(
    cfg: GeneratorConfig,
    created: np.ndarray,
    rho0: np.ndarray,
    intensity: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, float]:
    """Referrer index of every customer (-1 if not a referee) and the rate scale.

    ``created`` is sorted; ``rho0`` are unit-scale referral rates; ``intensity`` is the
    customer arrival intensity (per week) at each creation time.
    """
    n = created.size
    cum = np.cumsum(rho0)
    pool = np.searchsorted(created, created, side="left")  # customers created strictly before
    pooled = np.where(pool > 0, cum[np.maximum(pool - 1, 0)], 0.0)
    ratio = cfg.referral_conversion * pooled / intensity

    def share(scale: float) -> float:
        return float(np.minimum(MAX_REFEREE_PROBABILITY, scale * ratio).mean())

    lo, hi = 0.0, 1e-6
    while share(hi) < cfg.referee_share and hi < 1e12:
        lo, hi = hi, hi * 2.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if share(mid) < cfg.referee_share else (lo, mid)
    scale = hi
    referee = rng.random(n) < np.minimum(MAX_REFEREE_PROBABILITY, scale * ratio)
    referee &= pool > 0
    j = np.flatnonzero(referee)
    u = rng.random(j.size) * pooled[j]
    referrer = np.full(n, -1, dtype=np.int64)
    referrer[j] = np.minimum(np.searchsorted(cum, u, side="right"), pool[j] - 1)
    return referrer, scale


def referrals_table(
    cfg: GeneratorConfig,
    ref: ReferenceData,
    pop: Population,
    lo: int,
    hi: int,
    rng: np.random.Generator,
    first_id: int,
) -> pa.Table:
    """Referrals made by customers ``lo`` .. ``hi - 1`` (converted and not)."""
    end = cfg.window_end
    order = pop.referees_by_referrer
    a, b = np.searchsorted(pop.referrer[order], [lo, hi])
    referee = order[a:b]
    conv_referrer = pop.referrer[referee]
    converted_at = pop.created[referee]
    lag = np.floor(rng.exponential(4.0 * DAY, referee.size)).astype(np.int64)
    conv_referred = np.maximum(converted_at - lag, pop.created[conv_referrer])

    cust = np.arange(lo, hi)
    exposure = (end - pop.created[lo:hi]) / WEEK
    n_open = rng.poisson((1.0 - cfg.referral_conversion) * pop.referral_rate[lo:hi] * exposure)
    open_referrer = np.repeat(cust, n_open)
    start = pop.created[open_referrer]
    open_referred = start + np.floor(rng.random(open_referrer.size) * (end - start)).astype(np.int64)

    referrer = np.concatenate([conv_referrer, open_referrer])
    referee_idx = np.concatenate([referee, np.full(open_referrer.size, -1)])
    referred_at = np.concatenate([conv_referred, open_referred])
    conv_at = np.concatenate([converted_at, np.full(open_referrer.size, -1)])
    perm = np.argsort((referrer - lo) * (1 << 34) + (referred_at - cfg.window_start), kind="stable")
    referrer, referee_idx, referred_at, conv_at = referrer[perm], referee_idx[perm], referred_at[perm], conv_at[perm]
    n = referrer.size
    converted = referee_idx >= 0

    infl = pop.influencer[referrer]
    channel_p = np.where(infl[:, None], [0.25, 0.55, 0.10, 0.10], [0.35, 0.30, 0.20, 0.15])
    channel = np.minimum((rng.random(n)[:, None] > np.cumsum(channel_p, axis=1)).sum(axis=1), 3)
    currency = pop.currency[referrer]
    usd = rng.uniform(10.0, 25.0, n)
    reward = np.round(usd / ref.usd_per_unit[currency] * 100).astype(np.int64)
    reward_null = ~converted | (rng.random(n) < 0.10)
    asked = converted & (rng.random(n) < cfg.would_have_joined_asked)
    anyway = rng.random(n) < cfg.would_have_joined_share

    return schema.table(
        "referrals",
        {
            "referral_id": schema.ids("R", np.arange(first_id, first_id + n), 9),
            "referrer_customer_id": pop.customer_ids(referrer),
            "referee_customer_id": schema.ids("C", referee_idx + 1, pop.id_width, null=~converted),
            "referred_at": schema.ts(referred_at),
            "converted_at": schema.ts(conv_at, null=~converted),
            "channel": schema.categorical(REFERRAL_CHANNELS, channel),
            "reward_cost": schema.money(reward, null=reward_null),
            "currency": schema.categorical(ref.currencies, currency),
            "would_have_joined_anyway": schema.boolean(anyway, null=~asked),
        },
    )
