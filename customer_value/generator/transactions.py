"""Purchases (BG/NBD timing, Gamma-Gamma values), same-day splits and refunds.

For a buyer with first purchase at t0, ``T`` weeks before the end of the window,
latent ``lambda`` and ``p``: repeat purchases form a Poisson(lambda) process on
(t0, end) that stops right after the J-th repeat purchase, J ~ Geometric(p) -- the
BG/NBD story in continuous time. With K ~ Poisson(lambda T) the number of events
the process would have in the window, the customer makes X = min(K, J) repeat
purchases at the X smallest of K uniform times, drawn here from exponential spacings
(``U_(i) = S_i / (S_X + Gamma(K - X + 1))``), so nothing loops per customer.
Every purchase day is worth z ~ Gamma(p, rate nu) USD (Gamma-Gamma); a few days are
written as two transactions with the same timestamp whose amounts add up to z.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from . import schema
from .config import DAY, TRANSACTION_TYPES, WEEK, GeneratorConfig, ReferenceData
from .customers import Population


@dataclass
class Transactions:
    """The chunk's ``transactions`` rows plus the arrays the survey module needs."""

    table: pa.Table
    customer: np.ndarray  # global customer index, rows sorted by (customer, time)
    time: np.ndarray  # seconds
    cents: np.ndarray  # signed amount in the customer's currency


def _repeat_purchases(
    cfg: GeneratorConfig,
    pop: Population,
    buyers: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """BG/NBD repeat purchases of ``buyers``: (index into buyers, time) per purchase.

    Also records the truth (repeat count, dropout time) in ``pop``.
    """
    t0 = pop.first_purchase[buyers]
    span = (cfg.window_end - t0).astype(np.float64)
    k = rng.poisson(pop.lam[buyers] * span / WEEK)
    j = rng.geometric(np.maximum(pop.p_drop[buyers], 1e-12))
    x = np.minimum(k, j)
    grp = np.repeat(np.arange(buyers.size), x)
    cs = np.concatenate([[0.0], np.cumsum(rng.exponential(size=grp.size))])
    ends = np.cumsum(x)
    spacing = cs[1:] - cs[ends - x][grp]  # S_i within each buyer
    s_x = cs[ends] - cs[ends - x]
    denom = s_x + rng.gamma(np.maximum(k - x + 1, 1).astype(np.float64))
    times = t0[grp] + 1 + np.floor(spacing / denom[grp] * (span[grp] - 1)).astype(np.int64)
    dropped = j <= k  # died right after the J-th repeat purchase, inside the window
    dropout = np.full(buyers.size, -1, dtype=np.int64)
    dropout[dropped] = times[ends[dropped] - 1]
    pop.dropout_at[buyers] = dropout
    pop.n_repeat[buyers] = x.astype(np.int32)
    return grp, times


def simulate_transactions(
    cfg: GeneratorConfig,
    ref: ReferenceData,
    pop: Population,
    lo: int,
    hi: int,
    rng: np.random.Generator,
    first_id: int,
) -> Transactions:
    """All transactions of customers ``lo`` .. ``hi - 1``; ids start at ``first_id``."""
    end = cfg.window_end
    buyers = lo + np.flatnonzero(pop.is_buyer[lo:hi])
    grp, rep_t = _repeat_purchases(cfg, pop, buyers, rng)

    # Purchase days: the first purchase plus the repeats, each worth z USD.
    ev_cust = np.concatenate([buyers, buyers[grp]])
    ev_t = np.concatenate([pop.first_purchase[buyers], rep_t])
    usd = rng.gamma(cfg.gamma_gamma.p, 1.0 / pop.nu[ev_cust])
    ev_cur = pop.currency[ev_cust]
    ev_cents = np.maximum(1, np.rint(usd / ref.usd_per_unit[ev_cur] * 100)).astype(np.int64)

    # A few purchase days become two transactions (same timestamp) that add up.
    split = (rng.random(ev_cust.size) < cfg.split_rate) & (ev_cents >= 2)
    part = np.clip(np.rint(ev_cents * rng.uniform(0.2, 0.8, ev_cust.size)), 1, ev_cents - 1).astype(np.int64)
    rows_per = 1 + split.astype(np.int64)
    row_ev = np.repeat(np.arange(ev_cust.size), rows_per)
    first_row = np.zeros(row_ev.size, dtype=bool)
    first_row[np.cumsum(rows_per) - rows_per] = True
    p_cents = np.where(first_row, np.where(split, part, ev_cents)[row_ev], (ev_cents - part)[row_ev])
    p_cust, p_t, p_cur = ev_cust[row_ev], ev_t[row_ev], ev_cur[row_ev]
    n_p = p_cust.size
    p_cat = np.where(
        rng.random(n_p) < cfg.preferred_category_share,
        pop.pref_category[p_cust],
        rng.integers(0, len(ref.categories), n_p),
    )
    noise = np.maximum(rng.normal(1.0, 0.05, n_p), 0.5)
    p_cost = np.rint(p_cents * (1.0 - ref.margin_rate[p_cat]) * noise).astype(np.int64)
    p_cost_null = rng.random(n_p) < cfg.cost_null_rate

    # Refunds: 1-30 days after the purchase, never after the window; full or partial.
    room = end - 1 - p_t
    src = np.flatnonzero((room >= DAY) & (rng.random(n_p) < cfg.refund_rate))
    lag = DAY + np.floor(rng.random(src.size) * (np.minimum(30 * DAY, room[src]) - DAY + 1)).astype(np.int64)
    frac = np.where(rng.random(src.size) < 0.6, 1.0, rng.uniform(0.1, 0.9, src.size))
    r_cents = -np.clip(np.rint(p_cents[src] * frac), 1, p_cents[src]).astype(np.int64)
    r_cost = -np.rint(p_cost[src] * (-r_cents / p_cents[src])).astype(np.int64)

    cust = np.concatenate([p_cust, p_cust[src]])
    time = np.concatenate([p_t, p_t[src] + lag])
    kind = np.concatenate([np.zeros(n_p, np.int8), np.ones(src.size, np.int8)])
    cents = np.concatenate([p_cents, r_cents])
    cost = np.concatenate([p_cost, r_cost])
    cost_null = np.concatenate([p_cost_null, p_cost_null[src]])
    cur = np.concatenate([p_cur, p_cur[src]])
    cat = np.concatenate([p_cat, p_cat[src]])
    refunded = np.concatenate([np.full(n_p, -1), src])

    perm = np.argsort((cust - lo) * (1 << 32) + (time - cfg.window_start), kind="stable")
    position = np.empty(perm.size, dtype=np.int64)
    position[perm] = np.arange(perm.size)
    refunded_no = np.where(refunded >= 0, first_id + position[np.maximum(refunded, 0)], 0)
    cust, time, kind, cents, cost, cost_null, cur, cat, refunded_no = (
        a[perm] for a in (cust, time, kind, cents, cost, cost_null, cur, cat, refunded_no)
    )
    n = perm.size
    tbl = schema.table(
        "transactions",
        {
            "transaction_id": schema.ids("T", np.arange(first_id, first_id + n), 10),
            "customer_id": pop.customer_ids(cust),
            "transacted_at": schema.ts(time),
            "transaction_type": schema.categorical(TRANSACTION_TYPES, kind),
            "amount": schema.money(cents),
            "cost": schema.money(cost, null=cost_null),
            "currency": schema.categorical(ref.currencies, cur),
            "product_category": schema.categorical(ref.categories, cat),
            "refunded_transaction_id": schema.ids("T", refunded_no, 10, null=kind == 0),
        },
    )
    return Transactions(table=tbl, customer=cust, time=time, cents=cents)
