"""Settings, true model parameters and reference data of the raw-data generator.

Everything the simulation depends on is in :class:`GeneratorConfig`; it is written
verbatim to ``_truth/parameters.json`` so a later test can compare fitted models with
the truth. Times are handled internally as ``int64`` seconds since the Unix epoch
(naive UTC); money as ``int64`` cents of the row's currency.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

import numpy as np

DAY = 86_400
WEEK = 7 * DAY

#: Tables of the raw-data contract, in the order they are written.
TABLES: tuple[str, ...] = (
    "customers",
    "transactions",
    "email_campaigns",
    "email_events",
    "referrals",
    "social_profiles",
    "community_activity",
    "wallet_surveys",
)

# Enumerations of docs/raw-data-contract.md.
ACQUISITION_CHANNELS = ("referral", "paid_search", "paid_social", "organic", "email", "affiliate", "offline", "unknown")
TRANSACTION_TYPES = ("purchase", "refund")
CAMPAIGN_TYPES = ("promotional", "newsletter", "referral_invite", "transactional")
EVENT_TYPES = ("sent", "delivered", "open", "click", "forward", "bounce", "unsubscribe", "complaint")
REFERRAL_CHANNELS = ("referral_code", "share_link", "email_forward", "in_person")
NETWORKS = ("twitter", "instagram", "facebook", "linkedin", "tiktok", "youtube", "blog", "forum", "other")
ACTIVITY_TYPES = ("review", "rating", "question", "answer", "forum_post", "ugc")

#: Customer countries, their share of customers and their currency.
COUNTRIES = ("US", "GB", "DE", "FR", "NL", "CA", "AU", "JP", "SE")
COUNTRY_WEIGHTS = (0.40, 0.12, 0.10, 0.08, 0.04, 0.09, 0.07, 0.05, 0.05)
COUNTRY_CURRENCY = {
    "US": "USD",
    "GB": "GBP",
    "DE": "EUR",
    "FR": "EUR",
    "NL": "EUR",
    "CA": "CAD",
    "AU": "AUD",
    "JP": "JPY",
    "SE": "SEK",
}

DEFAULT_SEEDS_DIR = Path(__file__).resolve().parents[2] / "seeds"


@dataclass(frozen=True)
class BgNbdParams:
    """BG/NBD (Fader, Hardie & Lee 2005): lambda ~ Gamma(r, rate alpha) per week, p ~ Beta(a, b)."""

    r: float = 0.75
    alpha: float = 9.0
    a: float = 0.8
    b: float = 2.5


@dataclass(frozen=True)
class GammaGammaParams:
    """Gamma-Gamma spend: nu ~ Gamma(q, rate v); each purchase-day value z ~ Gamma(p, rate nu), USD."""

    p: float = 6.0
    q: float = 3.5
    v: float = 40.0


@dataclass(frozen=True)
class GeneratorConfig:
    """All settings of one generator run (CLI arguments plus behavioural constants)."""

    n_customers: int = 1000
    seed: int = 42
    end_date: date = date(2026, 6, 30)
    refund_rate: float = 0.04
    out: Path = Path("data/demo")
    fmt: Literal["parquet", "csv"] = "parquet"
    faults: bool = False
    chunk_size: int = 100_000
    seeds_dir: Path = DEFAULT_SEEDS_DIR
    quiet: bool = False
    bgnbd: BgNbdParams = field(default_factory=BgNbdParams)
    gamma_gamma: GammaGammaParams = field(default_factory=GammaGammaParams)
    # Customers.
    years: int = 3
    arrival_growth: float = 3.0  # arrival intensity at the end / at the start of the window
    buyer_share: float = 0.80  # customers who ever make a first purchase (if it falls in the window)
    same_day_first_purchase: float = 0.85
    email_null_rate: float = 0.05
    influencer_share: float = 0.02
    expert_share: float = 0.01
    # Transactions.
    split_rate: float = 0.05  # purchase days written as two same-timestamp transactions
    cost_null_rate: float = 0.10
    preferred_category_share: float = 0.60
    # Referrals (Gamma-Poisson): rate per week = scale * Gamma(shape, 1), scale calibrated.
    referee_share: float = 0.15
    referral_conversion: float = 0.30
    referral_shape: float = 0.6
    influencer_referral_shape: float = 2.0
    influencer_referral_multiplier: float = 10.0
    would_have_joined_share: float = 0.45
    would_have_joined_asked: float = 0.70
    # Email.
    messages_per_customer: float = 15.0
    # Surveys.
    survey_share: float = 0.10
    survey_repeat_share: float = 0.12
    sow_beta: tuple[float, float] = (1.2, 1.6)
    # Faults: rows per (table, kind) as a share of the table's clean rows (at least 1).
    fault_rate: float = 0.002

    @property
    def window_end(self) -> int:
        """Exclusive end of the window: midnight after ``end_date`` (seconds)."""
        return to_seconds(self.end_date) + DAY

    @property
    def window_start(self) -> int:
        """Start of the window: ``end_date`` minus ``years`` calendar years (seconds)."""
        d = self.end_date
        try:
            start = d.replace(year=d.year - self.years)
        except ValueError:  # 29 February
            start = d.replace(year=d.year - self.years, day=28)
        return to_seconds(start)


@dataclass(frozen=True)
class ReferenceData:
    """The dbt seeds the generator must agree with."""

    currencies: tuple[str, ...]
    usd_per_unit: np.ndarray  # aligned with currencies
    categories: tuple[str, ...]
    margin_rate: np.ndarray  # aligned with categories
    country_currency_idx: np.ndarray  # COUNTRIES index -> currencies index


def to_seconds(d: date) -> int:
    """Midnight UTC of ``d`` as seconds since the epoch."""
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())


def load_reference(seeds_dir: Path) -> ReferenceData:
    """Read ``currency_rates.csv`` and ``category_margins.csv`` from the dbt seeds folder."""

    def read(name: str, columns: tuple[str, str]) -> list[tuple[str, float]]:
        path = seeds_dir / name
        if not path.is_file():
            raise FileNotFoundError(f"seed file not found: {path} (use --seeds-dir)")
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames is None or not set(columns) <= set(reader.fieldnames):
                raise ValueError(f"{path} must have the columns {', '.join(columns)}")
            return [(row[columns[0]].strip(), float(row[columns[1]])) for row in reader]

    rates = read("currency_rates.csv", ("currency", "usd_per_unit"))
    margins = read("category_margins.csv", ("product_category", "margin_rate"))
    currencies = tuple(c for c, _ in rates)
    missing = sorted(set(COUNTRY_CURRENCY.values()) - set(currencies))
    if missing:
        raise ValueError(f"currency_rates.csv lacks the currencies {missing}")
    if not margins:
        raise ValueError("category_margins.csv has no categories")
    return ReferenceData(
        currencies=currencies,
        usd_per_unit=np.array([r for _, r in rates]),
        categories=tuple(c for c, _ in margins),
        margin_rate=np.array([m for _, m in margins]),
        country_currency_idx=np.array([currencies.index(COUNTRY_CURRENCY[c]) for c in COUNTRIES]),
    )


def stream(seed: int, *key: int) -> np.random.Generator:
    """An independent random stream for one stage (and chunk) of the run."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))
