"""Share-of-wallet survey answers, consistent with each buyer's latent true share s.

Spend answers: (net spend with us in the ``period_months`` before the answer) / s,
with 10 % log-normal noise. Rank answers: brands_used falls as s rises and brand_rank
is the rank whose Wallet Allocation Rule share, (1 - rank / (brands + 1)) * 2 / brands,
is closest to s. Likelihood to recommend rises with s.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from . import schema
from .config import DAY, WEEK, GeneratorConfig, ReferenceData
from .customers import Population
from .transactions import Transactions

DAYS_PER_MONTH = 365.25 / 12  # survey windows: period_months * DAYS_PER_MONTH days before responded_at


def war_share(rank: np.ndarray, brands: np.ndarray) -> np.ndarray:
    """Wallet Allocation Rule (Keiningham et al.)."""
    return (1.0 - rank / (brands + 1.0)) * 2.0 / brands


def wallet_surveys_table(
    cfg: GeneratorConfig,
    ref: ReferenceData,
    pop: Population,
    lo: int,
    hi: int,
    tx: Transactions,
    rng: np.random.Generator,
    first_id: int,
) -> pa.Table:
    """Answers of the buyers among customers ``lo`` .. ``hi - 1`` who took the survey."""
    end, start = cfg.window_end, cfg.window_start
    buyers = lo + np.flatnonzero(pop.is_buyer[lo:hi])
    earliest = pop.first_purchase[buyers] + 14 * DAY
    take = (rng.random(buyers.size) < cfg.survey_share) & (earliest < end - 1)
    resp, earliest = buyers[take], earliest[take]
    t1 = earliest + np.floor(rng.random(resp.size) * (end - 1 - earliest)).astype(np.int64)
    again = (rng.random(resp.size) < cfg.survey_repeat_share) & (t1 + 30 * DAY < end - 1)
    t2 = t1 + 30 * DAY + np.floor(rng.random(resp.size) * (end - 1 - t1 - 30 * DAY)).astype(np.int64)
    cust = np.concatenate([resp, resp[again]])
    time = np.concatenate([t1, t2[again]])
    perm = np.argsort((cust - lo) * (1 << 32) + (time - start), kind="stable")
    cust, time = cust[perm], time[perm]
    n = cust.size

    period = np.where(rng.random(n) < 0.85, 12, 6)
    window = np.rint(period * DAYS_PER_MONTH * DAY).astype(np.int64)
    # Net spend with us in (time - window, time], from the chunk's sorted transactions.
    tx_key = (tx.customer - lo) * (1 << 32) + (tx.time - start)
    cum = np.concatenate([[0], np.cumsum(tx.cents)])
    upper = np.searchsorted(tx_key, (cust - lo) * (1 << 32) + (time - start), side="right")
    lower = np.searchsorted(tx_key, (cust - lo) * (1 << 32) + np.maximum(time - window - start, -1), side="right")
    ours = cum[upper] - cum[lower]
    rate = ref.usd_per_unit[pop.currency[cust]]
    expected = pop.lam[cust] * (window / WEEK) * cfg.gamma_gamma.p / pop.nu[cust] / rate * 100
    base = np.where(ours > 0, ours, np.maximum(expected, 1000 / rate))
    s = pop.sow[cust]
    category = np.rint(base / s * rng.lognormal(0.0, 0.1, n)).astype(np.int64)

    mode = rng.random(n)
    has_spend = (mode < 0.6) | (mode >= 0.9)  # 60 % spend only, 30 % ranks only, 10 % both
    has_rank = mode >= 0.6
    brands = np.clip(1 + rng.poisson((1.0 - s) * 5.0), 1, 6)
    ranks = np.arange(1, 7)[None, :]
    gap = np.abs(war_share(ranks, brands[:, None]) - s[:, None])
    gap[ranks > brands[:, None]] = np.inf
    rank = 1 + np.argmin(gap, axis=1)
    ltr = np.clip(np.rint(2.0 + 8.0 * s + rng.normal(0.0, 1.5, n)), 0, 10)
    return schema.table(
        "wallet_surveys",
        {
            "response_id": schema.ids("S", np.arange(first_id, first_id + n), 8),
            "customer_id": pop.customer_ids(cust),
            "responded_at": schema.ts(time),
            "period_months": schema.int32(period),
            "category_spend": schema.money(category, null=~has_spend),
            "currency": schema.categorical(ref.currencies, pop.currency[cust], null=~has_spend),
            "brands_used": schema.int32(brands, null=~has_rank),
            "brand_rank": schema.int32(rank, null=~has_rank),
            "likelihood_to_recommend": schema.int32(ltr),
        },
    )
