"""Fault injection (--faults): extra raw rows that each break exactly one contract rule.

Rows are appended after each chunk's clean rows and never alter them, so the clean
counts stay exact. Each bad row starts from a valid template row of the same chunk
(existing customer, valid currency, timestamps inside the window), gets a fresh id,
and has one thing broken, in one column. The number per (table, reason) is
``fault_rate`` times the chunk's clean rows, and at least one per run. Timestamps are
ISO text here so malformed ones can be stored.

One rule reaches clean rows: a rejected refund quarantines the purchase it names
(refund_rejected), and so every refund of that purchase (orphan_reference). The bad
refunds out of range are copies of clean refunds, so their purchases and the clean
refunds of those purchases are logged with those reasons (the rows stay as they are).

The log records, for every rejected row, its table, raw key, reason and the column that
breaks the rule (as the build's stg_raw__rejected_rows names it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import schema
from .config import COUNTRIES, DAY, NETWORKS, TABLES, GeneratorConfig, ReferenceData, to_seconds
from .customers import Population

REASONS = (
    "missing_id",
    "missing_value",
    "unknown_type",
    "malformed_timestamp",
    "future_timestamp",
    "duplicate_id",
    "orphan_reference",
    "self_referral",
    "referral_cycle",
    "unknown_currency",
    "out_of_range",
    "refund_rejected",
)
MALFORMED = ("not-a-date", "2025-13-45 99:00:00")
ID_PREFIX = {
    "transactions": ("T", 10),
    "email_events": ("E", 10),
    "referrals": ("R", 9),
    "community_activity": ("A", 10),
    "wallet_surveys": ("S", 8),
    "email_campaigns": ("CMP", 5),
}


@dataclass
class FaultLog:
    """What was injected: counts per table and reason, and every row's raw key and the
    column that breaks the rule."""

    counts: dict[str, dict[str, int]] = field(default_factory=lambda: {t: {} for t in TABLES})
    table_names: list[str] = field(default_factory=list)
    raw_keys: list[str | None] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)

    def add(self, table: str, reason: str, rows: pa.Table, column: str | Sequence[str]) -> None:
        """Log the rows; ``column``: the column each breaks (one for all, or one per row)."""
        self.add_keys(table, reason, raw_keys(table, rows), column)

    def add_keys(self, table: str, reason: str, keys: Sequence[str | None], column: str | Sequence[str]) -> None:
        columns = [column] * len(keys) if isinstance(column, str) else list(column)
        assert len(columns) == len(keys)
        counts = self.counts[table]
        counts[reason] = counts.get(reason, 0) + len(keys)
        self.table_names += [table] * len(keys)
        self.raw_keys += list(keys)
        self.reasons += [reason] * len(keys)
        self.columns += columns

    def as_json(self) -> dict[str, dict[str, int]]:
        return {t: {r: c[r] for r in REASONS if c.get(r)} for t, c in self.counts.items() if c}

    def as_table(self) -> pa.Table:
        return pa.table(
            {
                "table_name": pa.array(self.table_names, pa.string()),
                "raw_key": pa.array(self.raw_keys, pa.string()),
                "reason": pa.array(self.reasons, pa.string()),
                "rejected_column": pa.array(self.columns, pa.string()),
            }
        )


def raw_keys(table: str, rows: pa.Table) -> list[str | None]:
    """Key of each row as the models report it: key columns joined by '|', NULL if one is blank."""
    parts = [rows.column(c).to_pylist() for c in schema.KEYS[table]]
    return [None if any(v is None or not v.strip() for v in vals) else "|".join(vals) for vals in zip(*parts)]


def _set(rows: pa.Table, name: str, values: Any) -> pa.Table:
    """Replace a column by ``values`` (a list, or one value for every row)."""
    i = rows.schema.get_field_index(name)
    typ = rows.schema.field(i).type
    if not isinstance(values, (list, pa.Array)):
        values = [values] * rows.num_rows
    return rows.set_column(i, rows.schema.field(i), pa.array(values, type=typ))


def _cycle(values: Sequence[Any], n: int) -> list[Any]:
    return [values[i % len(values)] for i in range(n)]


def _shift_text(arr: pa.ChunkedArray, seconds: np.ndarray) -> pa.Array:
    """Move ISO-text timestamps by ``seconds``."""
    ts = pc.strptime(arr, format="%Y-%m-%d %H:%M:%S", unit="s").cast(pa.int64()).to_numpy(zero_copy_only=False)
    return schema.ts_text(schema.ts(ts + seconds))


class Injector:
    """Builds the bad rows for one chunk."""

    def __init__(
        self,
        cfg: GeneratorConfig,
        ref: ReferenceData,
        pop: Population,
        rng: np.random.Generator,
        next_id: dict[str, int],
        log: FaultLog,
    ) -> None:
        self.cfg, self.ref, self.pop, self.rng = cfg, ref, pop, rng
        self.next_id, self.log = next_id, log
        self.extra: dict[str, list[pa.Table]] = {t: [] for t in TABLES}
        self.extra_customers: list[str] = []  # new valid customers (referral-cycle pairs)

    # -- helpers ---------------------------------------------------------------------------
    def count(self, table: str, reason: str, rows: int) -> int:
        """Rows to inject: ``fault_rate`` of the chunk's clean rows, and at least one until
        the (table, reason) has had one (a chunk without suitable templates defers it)."""
        missing = 0 if self.log.counts[table].get(reason) else 1
        return max(missing, int(self.cfg.fault_rate * rows + 0.5))

    def templates(self, tbl: pa.Table, n: int, mask: np.ndarray | None = None, unique: bool = False) -> pa.Table:
        cand = np.arange(tbl.num_rows) if mask is None else np.flatnonzero(mask)
        if cand.size == 0 or n == 0:
            return tbl.slice(0, 0)
        if unique:
            n = min(n, cand.size)
        pick = self.rng.choice(cand, size=n, replace=not unique and cand.size < n)
        return tbl.take(np.sort(pick))

    def new_ids(self, table: str, n: int) -> list[str]:
        """Fresh ids for injected rows. Customers continue after the clean ones; other tables
        count down from the largest id of the width, so clean rows keep the ids they have
        without --faults."""
        if table == "customers":
            first = self.next_id["C"]
            self.next_id["C"] = first + n
            return [f"C{i:0{self.pop.id_width}d}" for i in range(first, first + n)]
        prefix, width = ID_PREFIX[table]
        first = self.next_id.setdefault(f"fault_{prefix}", 10**width - 1)
        self.next_id[f"fault_{prefix}"] = first - n
        return [f"{prefix}{i:0{width}d}" for i in range(first, first - n, -1)]

    def orphan_ids(self, prefix: str, width: int, n: int) -> list[str]:
        """Ids of the right shape that no row has (a leading 9 and one digit more), unique per run."""
        first = self.next_id.setdefault("orphan", 1)
        self.next_id["orphan"] = first + n
        return [f"{prefix}9{i:0{width}d}" for i in range(first, first + n)]

    def future(self, n: int) -> list[str]:
        secs = to_seconds(date(2099, 1, 1)) + self.rng.integers(0, 364 * DAY, n)
        return [str(np.datetime64(int(s), "s")).replace("T", " ") for s in secs]

    def emit(self, table: str, reason: str | None, rows: pa.Table, column: str | Sequence[str] = "") -> None:
        """Append bad rows (``reason``; ``column``: the column each breaks) or valid ones (None)."""
        if rows.num_rows:
            self.extra[table].append(rows)
            if reason is not None:
                assert column, (table, reason)
                self.log.add(table, reason, rows, column)

    def fresh(self, table: str, rows: pa.Table) -> pa.Table:
        """The rows with new ids (so only the intended rule is broken)."""
        return _set(rows, schema.KEYS[table][0], self.new_ids(table, rows.num_rows))

    def common(
        self,
        table: str,
        tbl: pa.Table,
        ts_col: str,
        mask: np.ndarray | None = None,
        ref_col: str | None = None,
        originals: pa.Table | None = None,
    ) -> None:
        """missing_id, malformed_timestamp, future_timestamp and duplicate_id for a table with an id.

        Duplicates are exact copies of rows of ``originals`` (default ``tbl``).
        """
        key = schema.KEYS[table][0]
        n = tbl.num_rows
        rows = self.fresh(table, self.templates(tbl, self.count(table, "missing_id", n), mask))
        variants = [(key, None), (key, "")] + ([(ref_col, None), (ref_col, "")] if ref_col else [])
        for i, (col, value) in enumerate(variants):
            part = rows.filter(pa.array(np.arange(rows.num_rows) % len(variants) == i))
            self.emit(table, "missing_id", _set(part, col, value), col)
        rows = self.fresh(table, self.templates(tbl, self.count(table, "malformed_timestamp", n), mask))
        self.emit(table, "malformed_timestamp", _set(rows, ts_col, _cycle(MALFORMED, rows.num_rows)), ts_col)
        rows = self.fresh(table, self.templates(tbl, self.count(table, "future_timestamp", n), mask))
        self.emit(table, "future_timestamp", _set(rows, ts_col, self.future(rows.num_rows)), ts_col)
        originals = tbl if originals is None else originals
        self.emit(
            table, "duplicate_id", self.templates(originals, self.count(table, "duplicate_id", n), unique=True), key
        )

    def simple(
        self,
        table: str,
        reason: str,
        tbl: pa.Table,
        mask: np.ndarray | None,
        change: Callable[[pa.Table], pa.Table],
        column: str | Callable[[pa.Table], list[str]],
    ) -> None:
        """Rows from ``tbl`` (where ``mask``) with new ids, broken by ``change`` in ``column``
        (or in the columns a function of the changed rows gives, one per row)."""
        rows = self.fresh(table, self.templates(tbl, self.count(table, reason, tbl.num_rows), mask))
        rows = change(rows) if rows.num_rows else rows
        self.emit(table, reason, rows, column if isinstance(column, str) else column(rows))

    def customer_orphans(self, rows: pa.Table, col: str = "customer_id") -> pa.Table:
        return _set(rows, col, self.orphan_ids("C", self.pop.id_width, rows.num_rows))

    # -- tables ----------------------------------------------------------------------------
    def customers(self, tbl: pa.Table) -> None:
        anonymous = _set(tbl, "email", None)  # new bad customers do not reuse a real customer's email
        self.common("customers", anonymous, "created_at", originals=tbl)
        self.simple("customers", "missing_value", anonymous, None, lambda r: _set(r, "created_at", None), "created_at")
        self.simple(
            "customers",
            "unknown_type",
            anonymous,
            None,
            lambda r: _set(r, "acquisition_channel", "tv"),
            "acquisition_channel",
        )

    def transactions(self, tbl: pa.Table) -> None:
        kind = np.asarray(tbl.column("transaction_type").to_numpy(zero_copy_only=False))
        purchase, refund = kind == "purchase", kind == "refund"
        t = "transactions"
        self.common(t, tbl, "transacted_at", purchase, ref_col="customer_id")
        missing = ["transacted_at", "transaction_type", "amount", "currency"]
        self.simple(
            t,
            "missing_value",
            tbl,
            purchase,
            lambda r: self._null_one(r, missing),
            lambda r: self._null_one_columns(r, missing),
        )
        self.simple(
            t, "unknown_type", tbl, purchase, lambda r: _set(r, "transaction_type", "chargeback"), "transaction_type"
        )
        self.simple(t, "unknown_currency", tbl, purchase, lambda r: _set(r, "currency", "XYZ"), "currency")
        rows = self.fresh(t, self.templates(tbl, self.count(t, "orphan_reference", tbl.num_rows), purchase))
        half = rows.num_rows // 2 if refund.any() else rows.num_rows
        self.emit(t, "orphan_reference", self.customer_orphans(rows.slice(0, half)), "customer_id")
        rows = self.fresh(t, self.templates(tbl, rows.num_rows - half, refund))
        self.emit(
            t,
            "orphan_reference",
            _set(rows, "refunded_transaction_id", self.orphan_ids("T", 10, rows.num_rows)),
            "refunded_transaction_id",
        )
        # out_of_range: purchase amount 0 / negative, negative purchase cost, refund amount >= 0.
        n = self.count(t, "out_of_range", tbl.num_rows)
        zero, negative, cost, positive = self._split(self.fresh(t, self.templates(tbl, n, purchase)), 4)
        self.emit(t, "out_of_range", _set(zero, "amount", Decimal("0.00")), "amount")
        self.emit(
            t, "out_of_range", _set(negative, "amount", pc.negate(negative.column("amount")).combine_chunks()), "amount"
        )
        own_cost = pc.coalesce(cost.column("cost"), cost.column("amount"))
        self.emit(t, "out_of_range", _set(cost, "cost", pc.negate(pc.abs(own_cost)).combine_chunks()), "cost")
        if refund.any():  # refunds with a positive amount (cost dropped so only the amount is wrong)
            positive = self.fresh(t, self.templates(tbl, positive.num_rows, refund))
            positive = _set(_set(positive, "amount", pc.abs(positive.column("amount")).combine_chunks()), "cost", None)
            self.quarantine_refunded(tbl, positive)
        else:
            positive = _set(positive, "amount", Decimal("0.00"))
        self.emit(t, "out_of_range", positive, "amount")

    def quarantine_refunded(self, tbl: pa.Table, rejected_refunds: pa.Table) -> None:
        """A rejected refund quarantines the purchase it names (refund_rejected), and with it
        every clean refund of that purchase (its purchase is no longer kept: orphan_reference).
        Logged once each; the clean rows themselves stay as they are."""
        named = {v for v in rejected_refunds.column("refunded_transaction_id").to_pylist() if v}
        if not named:
            return
        ids = tbl.column("transaction_id").to_pylist()
        kinds = tbl.column("transaction_type").to_pylist()
        refunded = tbl.column("refunded_transaction_id").to_pylist()
        quarantined = {i for i, k in zip(ids, kinds) if k == "purchase" and i in named}
        refunds = sorted(i for i, k, r in zip(ids, kinds, refunded) if k == "refund" and r in quarantined)
        purchases = sorted(quarantined)
        self.log.add_keys("transactions", "refund_rejected", purchases, "transaction_id")
        self.log.add_keys("transactions", "orphan_reference", refunds, "refunded_transaction_id")

    def email_campaigns(self, tbl: pa.Table) -> None:
        self.common("email_campaigns", tbl, "sent_at")
        self.simple(
            "email_campaigns", "unknown_type", tbl, None, lambda r: _set(r, "campaign_type", "sms"), "campaign_type"
        )

    def email_events(self, tbl: pa.Table) -> None:
        t = "email_events"
        self.common(t, tbl, "occurred_at", ref_col="customer_id")
        missing = ["event_type", "occurred_at"]
        self.simple(
            t,
            "missing_value",
            tbl,
            None,
            lambda r: self._null_one(r, missing),
            lambda r: self._null_one_columns(r, missing),
        )
        self.simple(t, "unknown_type", tbl, None, lambda r: _set(r, "event_type", "print"), "event_type")
        rows = self.fresh(t, self.templates(tbl, self.count(t, "orphan_reference", tbl.num_rows)))
        a, b = self._split(rows, 2)
        self.emit(t, "orphan_reference", self.customer_orphans(a), "customer_id")
        self.emit(t, "orphan_reference", _set(b, "campaign_id", self.orphan_ids("CMP", 5, b.num_rows)), "campaign_id")
        self.simple(
            t,
            "out_of_range",
            tbl,
            None,
            lambda r: _set(
                _set(r, "event_type", "forward"),
                "forward_recipients",
                [-int(v) for v in self.rng.integers(1, 11, r.num_rows)],
            ),
            "forward_recipients",
        )

    def referrals(self, tbl: pa.Table, customers: pa.Table) -> None:
        t = "referrals"
        converted = tbl.column("referee_customer_id").is_valid().to_numpy(zero_copy_only=False)

        def unconverted(rows: pa.Table) -> pa.Table:
            for col in ("referee_customer_id", "converted_at", "reward_cost", "would_have_joined_anyway"):
                rows = _set(rows, col, None)
            return rows

        base = unconverted(tbl)  # templates for faults that need no referee
        self.common(t, base, "referred_at", ref_col="referrer_customer_id", originals=tbl)
        self.simple(t, "missing_value", base, None, lambda r: _set(r, "referred_at", None), "referred_at")
        self.simple(t, "unknown_type", base, None, lambda r: _set(r, "channel", "carrier_pigeon"), "channel")
        self.simple(t, "unknown_currency", base, None, lambda r: _set(r, "currency", "XYZ"), "currency")
        rows = self.fresh(t, self.templates(base, self.count(t, "orphan_reference", tbl.num_rows)))
        a, b = self._split(rows, 2)
        self.emit(t, "orphan_reference", self.customer_orphans(a, "referrer_customer_id"), "referrer_customer_id")
        b = self.fresh(t, self.templates(tbl, b.num_rows, converted))
        self.emit(t, "orphan_reference", self.customer_orphans(b, "referee_customer_id"), "referee_customer_id")
        self.simple(
            t,
            "self_referral",
            tbl,
            converted,
            lambda r: _set(r, "referee_customer_id", r.column("referrer_customer_id").combine_chunks()),
            "referee_customer_id",
        )
        ten = pa.scalar(Decimal("10.00"), pa.decimal128(18, 2))
        self.simple(
            t,
            "out_of_range",
            tbl,
            converted,
            lambda r: _set(
                r, "reward_cost", pc.negate(pc.abs(pc.coalesce(r.column("reward_cost"), ten))).combine_chunks()
            ),
            "reward_cost",
        )
        self._cycles(tbl, customers, (self.count(t, "referral_cycle", tbl.num_rows) + 1) // 2)

    def _cycles(self, tbl: pa.Table, customers: pa.Table, pairs: int) -> None:
        """Pairs of new valid prospects X, Y with converted referrals X->Y and Y->X."""
        if pairs == 0 or tbl.num_rows == 0:
            return
        people = self.templates(customers, 2 * pairs)
        people = _set(_set(self.fresh("customers", people), "email", None), "acquisition_channel", "referral")
        self.emit("customers", None, people)
        ids = people.column("customer_id").to_pylist()
        created = people.column("created_at").to_pylist()
        country = people.column("country").to_pylist()
        self.extra_customers += ids
        x, y = np.arange(0, 2 * pairs, 2), np.arange(1, 2 * pairs, 2)
        src = np.column_stack([x, y]).ravel()  # referrer of each row: X, Y, X, Y, ...
        dst = np.column_stack([y, x]).ravel()
        rows = self.fresh("referrals", self.templates(tbl, 2 * pairs))
        currency = [self.ref.currencies[self.ref.country_currency_idx[COUNTRIES.index(country[i])]] for i in src]
        rows = _set(rows, "referrer_customer_id", [ids[i] for i in src])
        rows = _set(rows, "referee_customer_id", [ids[i] for i in dst])
        rows = _set(rows, "referred_at", [created[i] for i in dst])
        rows = _set(rows, "converted_at", [created[i] for i in dst])
        rows = _set(_set(_set(rows, "currency", currency), "reward_cost", None), "would_have_joined_anyway", None)
        self.emit("referrals", "referral_cycle", rows, "referee_customer_id")

    def social_profiles(self, tbl: pa.Table, customers: pa.Table) -> None:
        t = "social_profiles"
        chunk_ids = customers.column("customer_id")
        free = np.flatnonzero(
            ~pc.is_in(chunk_ids, value_set=tbl.column("customer_id").combine_chunks()).to_numpy(zero_copy_only=False)
        )
        n = tbl.num_rows
        pool = iter(chunk_ids.take(self.rng.permutation(free)).to_pylist())

        def on_new_key(rows: pa.Table) -> pa.Table:
            owners = [c for _, c in zip(range(rows.num_rows), pool)]
            rows = rows.slice(0, len(owners))
            nets = [NETWORKS[i] for i in self.rng.integers(0, len(NETWORKS), rows.num_rows)]
            return _set(_set(rows, "customer_id", owners), "network", nets)

        def emit(reason: str, column: str, change: Callable[[pa.Table], pa.Table], new_key: bool = True) -> None:
            rows = self.templates(tbl, self.count(t, reason, n))
            self.emit(t, reason, change(on_new_key(rows) if new_key else rows), column)

        emit(
            "missing_id", "customer_id", lambda r: _set(r, "customer_id", _cycle([None, ""], r.num_rows)), new_key=False
        )
        emit("missing_value", "observed_at", lambda r: _set(r, "observed_at", None))
        emit("unknown_type", "network", lambda r: _set(r, "network", "myspace"))
        emit("malformed_timestamp", "observed_at", lambda r: _set(r, "observed_at", _cycle(MALFORMED, r.num_rows)))
        emit("future_timestamp", "observed_at", lambda r: _set(r, "observed_at", self.future(r.num_rows)))
        emit("orphan_reference", "customer_id", self.customer_orphans, new_key=False)
        emit(
            "out_of_range",
            "followers",
            lambda r: _set(r, "followers", [-int(v) for v in self.rng.integers(1, 500, r.num_rows)]),
        )
        older = self.templates(tbl, self.count(t, "duplicate_id", n), unique=True)
        shift = -self.rng.integers(30 * DAY, 180 * DAY, older.num_rows)
        self.emit(
            t,
            "duplicate_id",
            _set(older, "observed_at", _shift_text(older.column("observed_at"), shift)),
            "customer_id, network",
        )

    def community_activity(self, tbl: pa.Table) -> None:
        t = "community_activity"
        self.common(t, tbl, "occurred_at", ref_col="customer_id")
        missing = ["activity_type", "occurred_at"]
        self.simple(
            t,
            "missing_value",
            tbl,
            None,
            lambda r: self._null_one(r, missing),
            lambda r: self._null_one_columns(r, missing),
        )
        self.simple(t, "unknown_type", tbl, None, lambda r: _set(r, "activity_type", "vote"), "activity_type")
        self.simple(t, "orphan_reference", tbl, None, self.customer_orphans, "customer_id")

        def out_of_range(rows: pa.Table) -> pa.Table:
            a, b, c = self._split(rows, 3)
            a = _set(_set(a, "activity_type", "review"), "rating", 0)
            b = _set(_set(b, "activity_type", "rating"), "rating", 7)
            c = _set(c, "helpful_votes", [-int(v) for v in self.rng.integers(1, 6, c.num_rows)])
            return pa.concat_tables([a, b, c])

        self.simple(
            t,
            "out_of_range",
            tbl,
            None,
            out_of_range,
            lambda r: self._parts_columns(r, ["rating", "rating", "helpful_votes"]),
        )

    def wallet_surveys(self, tbl: pa.Table) -> None:
        t = "wallet_surveys"
        with_spend = tbl.column("category_spend").is_valid().to_numpy(zero_copy_only=False)
        self.common(t, tbl, "responded_at", ref_col="customer_id")
        self.simple(t, "missing_value", tbl, None, lambda r: _set(r, "responded_at", None), "responded_at")
        self.simple(t, "orphan_reference", tbl, None, self.customer_orphans, "customer_id")
        self.simple(t, "unknown_currency", tbl, with_spend, lambda r: _set(r, "currency", "XYZ"), "currency")

        def out_of_range(rows: pa.Table) -> pa.Table:
            a, b, c = self._split(rows, 3)
            a = _set(a, "likelihood_to_recommend", 11)
            b = _set(_set(b, "brands_used", 2), "brand_rank", 3)
            c = _set(c, "period_months", _cycle([0, -6], c.num_rows))
            return pa.concat_tables([a, b, c])

        self.simple(
            t,
            "out_of_range",
            tbl,
            None,
            out_of_range,
            lambda r: self._parts_columns(r, ["likelihood_to_recommend", "brand_rank", "period_months"]),
        )

    # -- small utilities -------------------------------------------------------------------
    @staticmethod
    def _split(rows: pa.Table, k: int) -> list[pa.Table]:
        """Rows dealt round-robin into k parts."""
        pos = np.arange(rows.num_rows) % k
        return [rows.filter(pa.array(pos == i)) for i in range(k)]

    def _null_one(self, rows: pa.Table, columns: list[str]) -> pa.Table:
        parts = self._split(rows, len(columns))
        return pa.concat_tables([_set(p, c, None) for p, c in zip(parts, columns)])

    @staticmethod
    def _parts_columns(rows: pa.Table, columns: list[str]) -> list[str]:
        """The column of each row of a table made of ``_split`` parts concatenated (part i
        broken in columns[i]), in the order of the rows."""
        k = len(columns)
        sizes = [len(range(i, rows.num_rows, k)) for i in range(k)]
        return [c for c, size in zip(columns, sizes) for _ in range(size)]

    def _null_one_columns(self, rows: pa.Table, columns: list[str]) -> list[str]:
        """The column each row of ``_null_one(rows, columns)`` lost."""
        return self._parts_columns(rows, columns)


def inject(
    cfg: GeneratorConfig,
    ref: ReferenceData,
    pop: Population,
    tables: dict[str, pa.Table],
    rng: np.random.Generator,
    next_id: dict[str, int],
    log: FaultLog,
) -> tuple[dict[str, pa.Table], list[str]]:
    """Bad rows for one chunk (tables have text timestamps); also the new valid customer ids."""
    inj = Injector(cfg, ref, pop, rng, next_id, log)
    inj.customers(tables["customers"])
    inj.transactions(tables["transactions"])
    if "email_campaigns" in tables:
        inj.email_campaigns(tables["email_campaigns"])
    inj.email_events(tables["email_events"])
    inj.referrals(tables["referrals"], tables["customers"])
    inj.social_profiles(tables["social_profiles"], tables["customers"])
    inj.community_activity(tables["community_activity"])
    inj.wallet_surveys(tables["wallet_surveys"])
    extra = {}
    for name, parts in inj.extra.items():
        if parts:
            extra[name] = pa.concat_tables(parts)
    return extra, inj.extra_customers
