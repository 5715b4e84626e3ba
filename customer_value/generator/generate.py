"""The generator run: population, then every table chunk by chunk, then the truth."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
from tqdm import tqdm

from . import schema
from .config import COUNTRY_CURRENCY, TABLES, GeneratorConfig, ReferenceData, load_reference, stream
from .customers import Population, build_population, customers_table
from .email import Campaigns, build_campaigns, email_events_table
from .faults import FaultLog, inject
from .referrals import referrals_table
from .social import community_activity_table, social_profiles_table
from .surveys import DAYS_PER_MONTH, wallet_surveys_table
from .transactions import simulate_transactions
from .writer import TableSink, write_json, write_parquet

ID_KEYS = {"transactions": "T", "email_events": "E", "referrals": "R", "community_activity": "A", "wallet_surveys": "S"}


@dataclass
class RunSummary:
    out: Path
    rows: dict[str, int]
    faults: dict[str, dict[str, int]]
    seconds: float


def _chunk(
    cfg: GeneratorConfig,
    ref: ReferenceData,
    pop: Population,
    campaigns: Campaigns,
    c: int,
    lo: int,
    hi: int,
    next_id: dict[str, int],
) -> dict[str, pa.Table]:
    """Clean rows of every table for customers lo .. hi - 1 (chunk c)."""
    seed = cfg.seed
    tables: dict[str, pa.Table] = {"customers": customers_table(pop, lo, hi)}
    tx = simulate_transactions(cfg, ref, pop, lo, hi, stream(seed, 2, c), next_id["T"])
    tables["transactions"] = tx.table
    if c == 0:
        tables["email_campaigns"] = campaigns.table
    tables["email_events"] = email_events_table(cfg, pop, campaigns, lo, hi, stream(seed, 3, c), next_id["E"])
    tables["referrals"] = referrals_table(cfg, ref, pop, lo, hi, stream(seed, 4, c), next_id["R"])
    tables["social_profiles"] = social_profiles_table(cfg, pop, lo, hi, stream(seed, 5, c))
    tables["community_activity"] = community_activity_table(cfg, ref, pop, lo, hi, stream(seed, 6, c), next_id["A"])
    tables["wallet_surveys"] = wallet_surveys_table(cfg, ref, pop, lo, hi, tx, stream(seed, 7, c), next_id["S"])
    for name, key in ID_KEYS.items():
        next_id[key] += tables[name].num_rows
    return tables


def generate(cfg: GeneratorConfig) -> RunSummary:
    """Write every raw table of the contract and the ground truth under ``cfg.out``."""
    started = time.perf_counter()
    ref = load_reference(cfg.seeds_dir)
    out = Path(cfg.out)
    (out / "_truth").mkdir(parents=True, exist_ok=True)
    pop = build_population(cfg, ref, stream(cfg.seed, 0))
    campaigns = build_campaigns(cfg, stream(cfg.seed, 1))
    next_id = {"C": cfg.n_customers + 1, "T": 1, "E": 1, "R": 1, "A": 1, "S": 1}  # next clean ids
    log = FaultLog()
    extra_customers: list[str] = []
    sinks = {t: TableSink(out, t, cfg.fmt, cfg.faults) for t in TABLES}
    try:
        progress = tqdm(
            total=cfg.n_customers, unit="customer", desc="generating", disable=True if cfg.quiet else None
        )  # None: only on a terminal
        with progress as bar:
            for c, lo in enumerate(range(0, cfg.n_customers, cfg.chunk_size)):
                hi = min(lo + cfg.chunk_size, cfg.n_customers)
                tables = _chunk(cfg, ref, pop, campaigns, c, lo, hi, next_id)
                if cfg.faults:
                    tables = {k: schema.timestamps_to_text(v) for k, v in tables.items()}
                    extra, new_customers = inject(cfg, ref, pop, tables, stream(cfg.seed, 9, c), next_id, log)
                    extra_customers += new_customers
                    tables = {k: pa.concat_tables([v, extra[k]]) if k in extra else v for k, v in tables.items()}
                for name, tbl in tables.items():
                    sinks[name].write(tbl)
                bar.update(hi - lo)
    except BaseException:
        for sink in sinks.values():
            sink.abort()
        raise
    for sink in sinks.values():
        sink.commit()
    rows = {t: s.rows for t, s in sinks.items()}
    write_parquet(out / "_truth" / "customer_latent.parquet", latent_table(pop, extra_customers))
    write_json(out / "_truth" / "parameters.json", parameters(cfg, ref, pop, rows, len(extra_customers)))
    write_json(out / "_truth" / "faults.json", log.as_json())
    write_parquet(out / "_truth" / "faults.parquet", log.as_table())
    return RunSummary(out=out, rows=rows, faults=log.as_json(), seconds=time.perf_counter() - started)


def latent_table(pop: Population, extra_customers: list[str]) -> pa.Table:
    """Per-customer truth; fault-injected valid customers (referral-cycle pairs) are prospects."""
    n, k = pop.n, len(extra_customers)
    buyer = pop.is_buyer

    def num(values: np.ndarray, valid: np.ndarray) -> pa.Array:
        return pa.array(
            np.concatenate([values, np.zeros(k)]), pa.float64(), mask=np.concatenate([~valid, np.ones(k, bool)])
        )

    def time_col(values: np.ndarray) -> pa.Array:
        v = np.concatenate([values, np.full(k, -1)])
        return schema.ts(np.maximum(v, 0), null=v < 0)

    def flag(values: np.ndarray) -> pa.Array:
        return pa.array(np.concatenate([values, np.zeros(k, bool)]))

    return pa.table(
        {
            "customer_id": pa.concat_arrays([pop.customer_ids(np.arange(n)), pa.array(extra_customers, pa.string())]),
            "is_buyer": flag(buyer),
            "lambda_per_week": num(pop.lam, buyer),
            "p_dropout": num(pop.p_drop, buyer),
            "dropout_at": time_col(pop.dropout_at),
            "nu": num(pop.nu, buyer),
            "is_influencer": flag(pop.influencer),
            "referral_rate": num(pop.referral_rate, np.ones(n, bool)),
            "true_share_of_wallet": num(pop.sow, buyer),
            "first_purchase_at": time_col(pop.first_purchase),
            "n_repeat_purchases": pa.array(
                np.concatenate([pop.n_repeat, np.zeros(k, np.int32)]),
                pa.int32(),
                mask=np.concatenate([~buyer, np.ones(k, bool)]),
            ),
            "is_expert": flag(pop.expert),
        }
    )


def parameters(cfg: GeneratorConfig, ref: ReferenceData, pop: Population, rows: dict[str, int], n_extra: int) -> dict:
    """The true parameters and settings, for ``_truth/parameters.json``."""

    def iso(seconds: int) -> str:
        return str(np.datetime64(int(seconds), "s")).replace("T", " ")

    s = pop.referral_scale
    return {
        "generator": "customer_value.generator",
        "seed": cfg.seed,
        "n_customers": cfg.n_customers,
        "n_valid_customers": cfg.n_customers + n_extra,
        "n_buyers": int(pop.is_buyer.sum()),
        "n_referees": int((pop.referrer >= 0).sum()),
        "end_date": cfg.end_date.isoformat(),
        "window_start": iso(cfg.window_start),
        "window_end_exclusive": iso(cfg.window_end),
        "format": cfg.fmt,
        "faults": cfg.faults,
        "fault_rate": cfg.fault_rate,
        "refund_rate": cfg.refund_rate,
        "chunk_size": cfg.chunk_size,
        "bgnbd": {
            **asdict(cfg.bgnbd),
            "time_unit": "week",
            "lambda": "Gamma(shape=r, rate=alpha), purchases per week",
            "p": "Beta(a, b), dropout probability right after each repeat purchase",
            "T": "from the first purchase to window_end_exclusive",
        },
        "gamma_gamma": {
            **asdict(cfg.gamma_gamma),
            "currency": "USD",
            "nu": "Gamma(shape=q, rate=v)",
            "z": "purchase-day total ~ Gamma(shape=p, rate=nu)",
            "mean_purchase_usd": cfg.gamma_gamma.p * cfg.gamma_gamma.v / (cfg.gamma_gamma.q - 1),
        },
        "purchases": {
            "buyer_share": cfg.buyer_share,
            "same_day_first_purchase": cfg.same_day_first_purchase,
            "split_rate": cfg.split_rate,
            "split": "two transactions with the same timestamp adding up to the day",
            "cost_null_rate": cfg.cost_null_rate,
            "cost_noise_sd": 0.05,
            "preferred_category_share": cfg.preferred_category_share,
            "refunds": "full (60 %) or partial, 1-30 days after the purchase, within the window",
        },
        "referrals": {
            "process": "Gamma-Poisson",
            "rate_unit": "referrals per week from created_at",
            "conversion_probability": cfg.referral_conversion,
            "regular": {"shape": cfg.referral_shape, "rate": 1.0 / s},
            "influencer": {
                "shape": cfg.influencer_referral_shape,
                "rate": 1.0 / (s * cfg.influencer_referral_multiplier),
            },
            "referee_share_target": cfg.referee_share,
            "would_have_joined_share": cfg.would_have_joined_share,
            "would_have_joined_asked": cfg.would_have_joined_asked,
            "reward_usd": [10.0, 25.0],
            "reward_null_rate_converted": 0.10,
        },
        "customers": {
            "influencer_share": cfg.influencer_share,
            "expert_share": cfg.expert_share,
            "email_null_rate": cfg.email_null_rate,
            "arrival_growth": cfg.arrival_growth,
            "country_currency": COUNTRY_CURRENCY,
        },
        "email": {
            "messages_per_customer": cfg.messages_per_customer,
            "bounce_rate": 0.03,
            "unsubscribe_rate": 0.002,
            "complaint_rate": 0.0005,
        },
        "surveys": {
            "survey_share_of_buyers": cfg.survey_share,
            "repeat_share": cfg.survey_repeat_share,
            "true_share_of_wallet": f"Beta({cfg.sow_beta[0]}, {cfg.sow_beta[1]})",
            "window_days_per_month": DAYS_PER_MONTH,
            "spend_noise_lognormal_sd": 0.1,
            "our_spend": "net of refunds, customer's currency, (responded_at - window, responded_at]",
        },
        "currencies": {c: float(r) for c, r in zip(ref.currencies, ref.usd_per_unit)},
        "category_margins": {c: float(m) for c, m in zip(ref.categories, ref.margin_rate)},
        "raw_rows": rows,
    }
