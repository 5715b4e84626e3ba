"""Email campaigns (about one a week) and a realistic event funnel per message.

Per message: sent -> bounce (3 %, nothing after) or delivered -> open with the
customer's propensity (sometimes 2-3 opens) -> click (per-customer propensity among
openers) and, rarely and mostly for influencers, forward (1-10 recipients);
unsubscribe and complaint are rare. Events after the end of the window have not
happened yet and are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

from . import schema
from .config import CAMPAIGN_TYPES, DAY, EVENT_TYPES, WEEK, GeneratorConfig
from .customers import Population

CAMPAIGN_TYPE_WEIGHTS = (0.35, 0.45, 0.10, 0.10)
EV = {name: i for i, name in enumerate(EVENT_TYPES)}


@dataclass
class Campaigns:
    sent_at: np.ndarray  # seconds, increasing
    table: pa.Table


def build_campaigns(cfg: GeneratorConfig, rng: np.random.Generator) -> Campaigns:
    """About one campaign per week over the window."""
    n = max(1, (cfg.window_end - cfg.window_start) // WEEK)
    sent = cfg.window_start + np.arange(n) * WEEK + DAY + rng.integers(7 * 3600, 17 * 3600, n)
    sent = np.minimum(sent, cfg.window_end - 1)
    kind = rng.choice(len(CAMPAIGN_TYPES), size=n, p=CAMPAIGN_TYPE_WEIGHTS)
    names = [
        f"{CAMPAIGN_TYPES[k].replace('_', ' ').title()} {datetime.fromtimestamp(int(s), UTC):%Y-%m-%d}"
        for k, s in zip(kind, sent)
    ]
    tbl = schema.table(
        "email_campaigns",
        {
            "campaign_id": schema.ids("CMP", np.arange(1, n + 1), 5),
            "campaign_name": pa.array(names, pa.string()),
            "campaign_type": schema.categorical(CAMPAIGN_TYPES, kind),
            "sent_at": schema.ts(sent),
        },
    )
    return Campaigns(sent_at=sent, table=tbl)


def email_events_table(
    cfg: GeneratorConfig,
    pop: Population,
    campaigns: Campaigns,
    lo: int,
    hi: int,
    rng: np.random.Generator,
    first_id: int,
) -> pa.Table:
    """Events of the messages sent to customers ``lo`` .. ``hi - 1`` (those with an email)."""
    sent_at = campaigns.sent_at
    n_camp = sent_at.size
    cust = lo + np.flatnonzero(pop.has_email[lo:hi])
    first_eligible = np.searchsorted(sent_at, pop.created[cust], side="left")
    eligible = n_camp - first_eligible
    n_msg = np.minimum(rng.poisson(cfg.messages_per_customer, cust.size), eligible)
    grp = np.repeat(np.arange(cust.size), n_msg)
    camp = first_eligible[grp] + np.floor(rng.random(grp.size) * eligible[grp]).astype(np.int64)
    key = np.unique(grp * n_camp + camp)  # one message per (customer, campaign)
    m_cust, m_camp = cust[key // n_camp], key % n_camp
    m = key.size

    sent = sent_at[m_camp] + rng.integers(0, 7200, m)
    bounce = rng.random(m) < 0.03
    delivered = sent + rng.integers(1, 120, m)
    opened = ~bounce & (rng.random(m) < pop.open_prop[m_cust])
    first_open = delivered + np.floor(rng.exponential(8 * 3600.0, m)).astype(np.int64)
    u = rng.random(m)
    extra_opens = (u > 0.75).astype(np.int64) + (u > 0.92)
    click = opened & (rng.random(m) < pop.click_prop[m_cust])
    infl = pop.influencer[m_cust]
    forward = opened & (rng.random(m) < np.where(infl, 0.20, 0.004))
    recipients = np.where(infl, rng.integers(2, 11, m), rng.integers(1, 4, m))
    unsubscribe = ~bounce & (rng.random(m) < 0.002)
    complaint = ~bounce & (rng.random(m) < 0.0005)

    def gap(mean: float) -> np.ndarray:
        return 1 + np.floor(rng.exponential(mean, m)).astype(np.int64)

    opened_extra = np.repeat(np.flatnonzero(opened), extra_opens[opened])
    parts = [  # (message index, event type, time)
        (np.arange(m), EV["sent"], sent),
        (np.flatnonzero(bounce), EV["bounce"], (sent + gap(60.0))[bounce]),
        (np.flatnonzero(~bounce), EV["delivered"], delivered[~bounce]),
        (np.flatnonzero(opened), EV["open"], first_open[opened]),
        (
            opened_extra,
            EV["open"],
            first_open[opened_extra] + np.floor(rng.exponential(DAY, opened_extra.size)).astype(np.int64) + 1,
        ),
        (np.flatnonzero(click), EV["click"], (first_open + gap(300.0))[click]),
        (np.flatnonzero(forward), EV["forward"], (first_open + gap(1800.0))[forward]),
        (np.flatnonzero(unsubscribe), EV["unsubscribe"], (delivered + gap(7200.0))[unsubscribe]),
        (np.flatnonzero(complaint), EV["complaint"], (delivered + gap(7200.0))[complaint]),
    ]
    msg = np.concatenate([p[0] for p in parts])
    etype = np.concatenate([np.full(p[0].size, p[1], np.int8) for p in parts])
    time = np.concatenate([p[2] for p in parts])
    keep = time < cfg.window_end
    msg, etype, time = msg[keep], etype[keep], time[keep]
    perm = np.argsort((m_cust[msg] - lo) * (1 << 32) + (time - cfg.window_start), kind="stable")
    msg, etype, time = msg[perm], etype[perm], time[perm]
    is_forward = etype == EV["forward"]
    n = msg.size
    return schema.table(
        "email_events",
        {
            "event_id": schema.ids("E", np.arange(first_id, first_id + n), 10),
            "customer_id": pop.customer_ids(m_cust[msg]),
            "campaign_id": schema.ids("CMP", m_camp[msg] + 1, 5),
            "event_type": schema.categorical(EVENT_TYPES, etype),
            "occurred_at": schema.ts(time),
            "forward_recipients": schema.int32(recipients[msg], null=~is_forward),
        },
    )
