"""The customer population: arrival times, attributes and every latent trait.

The population is built once for the whole run (a few arrays of length N, about
150 MB at a million customers); the per-table modules then work on chunks of it.
Customers are numbered in order of ``created_at``, so "created before" means "has a
smaller index" (ties in the second excepted, which the referral code handles).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import schema
from .config import (
    ACQUISITION_CHANNELS,
    COUNTRIES,
    COUNTRY_WEIGHTS,
    DAY,
    WEEK,
    GeneratorConfig,
    ReferenceData,
)
from .referrals import assign_referrers

FIRST_NAMES = (
    "anna",
    "ben",
    "carla",
    "david",
    "emma",
    "felix",
    "grace",
    "hugo",
    "iris",
    "jack",
    "kate",
    "liam",
    "maya",
    "noah",
    "olga",
    "paul",
    "quinn",
    "rosa",
    "sam",
    "tara",
    "uma",
    "victor",
    "wendy",
    "xavier",
    "yara",
    "zoe",
    "aiko",
    "bjorn",
    "chloe",
    "diego",
    "elsa",
    "finn",
    "hana",
    "ines",
    "jonas",
    "lena",
)
LAST_NAMES = (
    "smith",
    "jones",
    "miller",
    "brown",
    "davis",
    "wilson",
    "taylor",
    "clark",
    "lewis",
    "walker",
    "hall",
    "young",
    "king",
    "wright",
    "green",
    "baker",
    "adams",
    "nelson",
    "hill",
    "campbell",
    "mueller",
    "schmidt",
    "dubois",
    "martin",
    "devries",
    "jansen",
    "tanaka",
    "sato",
    "andersson",
    "nilsson",
)
#: Acquisition channels of customers who did not come through a referral.
OTHER_CHANNELS = {
    "paid_search": 0.25,
    "paid_social": 0.20,
    "organic": 0.25,
    "email": 0.10,
    "affiliate": 0.08,
    "offline": 0.08,
    "unknown": 0.04,
}


@dataclass
class Population:
    """Per-customer arrays (index i is customer number i + 1)."""

    created: np.ndarray  # int64 seconds, sorted
    country: np.ndarray  # int8 index into COUNTRIES
    currency: np.ndarray  # int8 index into ReferenceData.currencies
    channel: np.ndarray  # int8 index into ACQUISITION_CHANNELS
    has_email: np.ndarray
    first_name: np.ndarray
    last_name: np.ndarray
    is_buyer: np.ndarray
    first_purchase: np.ndarray  # int64 seconds, -1 for prospects
    lam: np.ndarray  # purchases per week (NaN for prospects)
    p_drop: np.ndarray  # dropout probability after each repeat purchase (NaN for prospects)
    nu: np.ndarray  # Gamma-Gamma scale trait (NaN for prospects)
    influencer: np.ndarray
    expert: np.ndarray
    referral_rate: np.ndarray  # referrals made per week (converted or not)
    referrer: np.ndarray  # int64 index of the referrer, -1 if not a referee
    referees_by_referrer: np.ndarray  # referee indices sorted by referrer
    sow: np.ndarray  # true share of wallet (NaN for prospects)
    pref_category: np.ndarray
    open_prop: np.ndarray
    click_prop: np.ndarray
    referral_scale: float
    id_width: int
    # Filled in chunk by chunk by the transaction simulation.
    dropout_at: np.ndarray  # int64 seconds, -1 when alive at the end (or a prospect)
    n_repeat: np.ndarray  # repeat purchases (purchase events after the first) in the window

    @property
    def n(self) -> int:
        return int(self.created.size)

    def customer_ids(self, idx: np.ndarray) -> pa.Array:
        """Customer ids of the customers with (global) indices ``idx``."""
        return schema.ids("C", np.asarray(idx) + 1, self.id_width)


def customer_id_width(n_customers: int) -> int:
    """Digits of customer ids: 7, more for huge runs; leaves room for fault-injected customers."""
    return max(7, len(str(2 * n_customers + 1000)))


def arrival_times(cfg: GeneratorConfig, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Sorted creation times with an exponentially growing intensity, and that intensity
    (customers per week) at each of them."""
    start, end = cfg.window_start, cfg.window_end
    width = end - start
    gamma = np.log(cfg.arrival_growth)
    u = np.sort(rng.random(n))
    if gamma > 0:
        frac = np.log1p(u * np.expm1(gamma)) / gamma
        density = gamma * np.exp(gamma * frac) / np.expm1(gamma)  # per unit of window
    else:
        frac, density = u, np.ones(n)
    created = start + np.floor(frac * width).astype(np.int64)
    return created, n * density * WEEK / width


def build_population(cfg: GeneratorConfig, ref: ReferenceData, rng: np.random.Generator) -> Population:
    """Draw every customer and their latent traits (vectorised over all customers)."""
    n = cfg.n_customers
    bg, gg = cfg.bgnbd, cfg.gamma_gamma
    created, intensity = arrival_times(cfg, n, rng)
    country = rng.choice(len(COUNTRIES), size=n, p=np.array(COUNTRY_WEIGHTS) / sum(COUNTRY_WEIGHTS)).astype(np.int8)
    influencer = rng.random(n) < cfg.influencer_share
    expert = rng.random(n) < cfg.expert_share

    # Referral propensity: Gamma heterogeneity, far higher for influencers.
    rho0 = np.where(
        influencer,
        rng.gamma(cfg.influencer_referral_shape, cfg.influencer_referral_multiplier, n),
        rng.gamma(cfg.referral_shape, 1.0, n),
    )
    referrer, scale = assign_referrers(cfg, created, rho0, intensity, rng)
    is_referee = referrer >= 0
    others = np.array([ACQUISITION_CHANNELS.index(c) for c in OTHER_CHANNELS])
    weights = np.array(list(OTHER_CHANNELS.values()))
    channel = others[rng.choice(others.size, size=n, p=weights / weights.sum())]
    channel = np.where(is_referee, ACQUISITION_CHANNELS.index("referral"), channel).astype(np.int8)

    # Buying: first purchase at or shortly after creation; BG/NBD and Gamma-Gamma traits.
    same_day = rng.random(n) < cfg.same_day_first_purchase
    lag = np.where(same_day, rng.exponential(3600.0, n), rng.exponential(14.0 * DAY, n))
    first = created + np.floor(lag).astype(np.int64)
    is_buyer = (rng.random(n) < cfg.buyer_share) & (first < cfg.window_end)
    lam = rng.gamma(bg.r, 1.0 / bg.alpha, n)
    p_drop = rng.beta(bg.a, bg.b, n)
    nu = rng.gamma(gg.q, 1.0 / gg.v, n)
    sow = rng.beta(*cfg.sow_beta, n)
    for arr in (lam, p_drop, nu, sow):
        arr[~is_buyer] = np.nan

    order = np.flatnonzero(is_referee)
    order = order[np.argsort(referrer[order], kind="stable")]
    return Population(
        created=created,
        country=country,
        currency=ref.country_currency_idx[country].astype(np.int8),
        channel=channel,
        has_email=rng.random(n) >= cfg.email_null_rate,
        first_name=rng.integers(0, len(FIRST_NAMES), n).astype(np.int16),
        last_name=rng.integers(0, len(LAST_NAMES), n).astype(np.int16),
        is_buyer=is_buyer,
        first_purchase=np.where(is_buyer, first, -1),
        lam=lam,
        p_drop=p_drop,
        nu=nu,
        influencer=influencer,
        expert=expert,
        referral_rate=scale * rho0,
        referrer=referrer,
        referees_by_referrer=order,
        sow=sow,
        pref_category=rng.integers(0, len(ref.categories), n).astype(np.int8),
        open_prop=np.where(influencer, rng.beta(4.0, 4.0, n), rng.beta(2.5, 6.0, n)),
        click_prop=rng.beta(2.0, 10.0, n),
        referral_scale=scale,
        id_width=customer_id_width(n),
        dropout_at=np.full(n, -1, dtype=np.int64),
        n_repeat=np.zeros(n, dtype=np.int32),
    )


def customers_table(pop: Population, lo: int, hi: int) -> pa.Table:
    """Rows of ``customers`` for customers ``lo`` .. ``hi - 1``."""
    idx = np.arange(lo, hi)
    number = pc.cast(pa.array(idx + 1), pa.string())
    email = pc.binary_join_element_wise(
        schema.categorical(FIRST_NAMES, pop.first_name[lo:hi]),
        ".",
        schema.categorical(LAST_NAMES, pop.last_name[lo:hi]),
        number,
        "@example.com",
        "",
    )
    email = pc.if_else(pa.array(pop.has_email[lo:hi]), email, pa.scalar(None, pa.string()))
    return schema.table(
        "customers",
        {
            "customer_id": pop.customer_ids(idx),
            "email": email,
            "created_at": schema.ts(pop.created[lo:hi]),
            "acquisition_channel": schema.categorical(ACQUISITION_CHANNELS, pop.channel[lo:hi]),
            "country": schema.categorical(COUNTRIES, pop.country[lo:hi]),
        },
    )
