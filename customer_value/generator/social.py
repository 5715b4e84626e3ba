"""Social profiles (reach) and community activity (knowledge and involvement)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from . import schema
from .config import ACTIVITY_TYPES, DAY, NETWORKS, GeneratorConfig, ReferenceData
from .customers import Population

NETWORK_WEIGHTS = np.array([0.12, 0.22, 0.22, 0.12, 0.10, 0.06, 0.04, 0.06, 0.06])
PROFILE_SHARE = 0.29  # besides influencers, who all have profiles
ACTIVE_SHARE = 0.08  # besides experts and influencers
# Activity mix: regular members vs experts/influencers (order of ACTIVITY_TYPES).
ACTIVITY_WEIGHTS = np.array([[0.25, 0.35, 0.15, 0.05, 0.15, 0.05], [0.20, 0.10, 0.05, 0.35, 0.20, 0.10]])
RATING_WEIGHTS = np.array([0.05, 0.07, 0.15, 0.33, 0.40])


def social_profiles_table(
    cfg: GeneratorConfig, pop: Population, lo: int, hi: int, rng: np.random.Generator
) -> pa.Table:
    """One row per (customer, network) for the ~30 % of customers with profiles."""
    n_chunk = hi - lo
    infl_all = pop.influencer[lo:hi]
    has = infl_all | (rng.random(n_chunk) < PROFILE_SHARE)
    cust = lo + np.flatnonzero(has)
    k = 1 + (rng.random(cust.size)[:, None] > np.array([0.55, 0.85])).sum(axis=1)  # 1-3 networks
    # Distinct networks per customer: weighted sampling without replacement (Gumbel top-k).
    keys = np.log(NETWORK_WEIGHTS)[None, :] + rng.gumbel(size=(cust.size, len(NETWORKS)))
    ranked = np.argsort(-keys, axis=1)
    take = np.arange(len(NETWORKS))[None, :] < k[:, None]
    row_cust = np.repeat(cust, k)
    network = ranked[take]
    n = row_cust.size

    infl = pop.influencer[row_cust]
    followers = np.where(infl, rng.lognormal(np.log(60_000), 1.2, n), rng.lognormal(np.log(150), 1.3, n))
    following = rng.lognormal(np.log(200), 1.0, n)
    posts = rng.poisson(np.where(infl, rng.gamma(3.0, 40.0, n), rng.gamma(0.7, 12.0, n)))
    mention_rate = np.where(infl, rng.beta(2.0, 10.0, n), rng.beta(0.5, 30.0, n))
    mentions = rng.binomial(posts, mention_rate)
    is_public = rng.random(n) < np.where(infl, 0.98, 0.75)
    end = cfg.window_end
    look_back = np.minimum(14 * DAY, end - 1 - pop.created[row_cust])
    observed = end - 1 - np.floor(rng.random(n) * look_back).astype(np.int64)
    return schema.table(
        "social_profiles",
        {
            "customer_id": pop.customer_ids(row_cust),
            "network": schema.categorical(NETWORKS, network),
            "followers": schema.int32(np.floor(followers)),
            "following": schema.int32(np.floor(following)),
            "posts_90d": schema.int32(posts),
            "brand_mentions_90d": schema.int32(mentions),
            "is_public": schema.boolean(is_public),
            "observed_at": schema.ts(observed),
        },
    )


def community_activity_table(
    cfg: GeneratorConfig, ref: ReferenceData, pop: Population, lo: int, hi: int, rng: np.random.Generator, first_id: int
) -> pa.Table:
    """Reviews, ratings, questions, answers, posts and UGC: a few experts do most of it."""
    n_chunk = hi - lo
    heavy_all = pop.expert[lo:hi] | pop.influencer[lo:hi]
    active = rng.random(n_chunk) < np.where(heavy_all, 0.9, ACTIVE_SHARE)
    cust = lo + np.flatnonzero(active)
    heavy = heavy_all[cust - lo]
    # Pareto-tailed counts (Lomax + 1), far larger for experts and influencers.
    count = np.where(heavy, 1 + np.floor(10 * rng.pareto(1.2, cust.size)), 1 + np.floor(rng.pareto(1.5, cust.size)))
    count = np.minimum(count, np.where(heavy, 2000, 300)).astype(np.int64)
    row_cust = np.repeat(cust, count)
    row_heavy = np.repeat(heavy, count)
    n = row_cust.size
    probs = ACTIVITY_WEIGHTS[row_heavy.astype(int)]
    kind = np.minimum((rng.random(n)[:, None] > np.cumsum(probs, axis=1)).sum(axis=1), len(ACTIVITY_TYPES) - 1)
    cat = np.where(rng.random(n) < 0.6, pop.pref_category[row_cust], rng.integers(0, len(ref.categories), n))
    start = pop.created[row_cust]
    time = start + np.floor(rng.random(n) * (cfg.window_end - start)).astype(np.int64)
    valued = np.isin(
        kind, [ACTIVITY_TYPES.index("answer"), ACTIVITY_TYPES.index("review"), ACTIVITY_TYPES.index("ugc")]
    )
    votes = np.floor(np.expm1(rng.normal(np.where(valued, 0.8, -0.5) + np.where(row_heavy, 1.0, 0.0), 1.3)))
    votes = np.maximum(votes, 0)
    rated = np.isin(kind, [ACTIVITY_TYPES.index("review"), ACTIVITY_TYPES.index("rating")])
    rating = 1 + rng.choice(5, size=n, p=RATING_WEIGHTS)
    perm = np.argsort((row_cust - lo) * (1 << 32) + (time - cfg.window_start), kind="stable")
    row_cust, kind, cat, time = row_cust[perm], kind[perm], cat[perm], time[perm]
    votes, rated, rating = votes[perm], rated[perm], rating[perm]
    return schema.table(
        "community_activity",
        {
            "activity_id": schema.ids("A", np.arange(first_id, first_id + n), 10),
            "customer_id": pop.customer_ids(row_cust),
            "activity_type": schema.categorical(ACTIVITY_TYPES, kind),
            "product_category": schema.categorical(ref.categories, cat),
            "occurred_at": schema.ts(time),
            "helpful_votes": schema.int32(votes),
            "rating": schema.int32(rating, null=~rated),
        },
    )
