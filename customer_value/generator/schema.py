"""Contract columns and Arrow builders (numpy arrays -> typed Arrow arrays)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: Columns of each raw table with their logical contract type, in contract order.
CONTRACT: dict[str, tuple[tuple[str, str], ...]] = {
    "customers": (
        ("customer_id", "VARCHAR"),
        ("email", "VARCHAR"),
        ("created_at", "TIMESTAMP"),
        ("acquisition_channel", "VARCHAR"),
        ("country", "VARCHAR"),
    ),
    "transactions": (
        ("transaction_id", "VARCHAR"),
        ("customer_id", "VARCHAR"),
        ("transacted_at", "TIMESTAMP"),
        ("transaction_type", "VARCHAR"),
        ("amount", "DECIMAL"),
        ("cost", "DECIMAL"),
        ("currency", "VARCHAR"),
        ("product_category", "VARCHAR"),
        ("refunded_transaction_id", "VARCHAR"),
    ),
    "email_campaigns": (
        ("campaign_id", "VARCHAR"),
        ("campaign_name", "VARCHAR"),
        ("campaign_type", "VARCHAR"),
        ("sent_at", "TIMESTAMP"),
    ),
    "email_events": (
        ("event_id", "VARCHAR"),
        ("customer_id", "VARCHAR"),
        ("campaign_id", "VARCHAR"),
        ("event_type", "VARCHAR"),
        ("occurred_at", "TIMESTAMP"),
        ("forward_recipients", "INTEGER"),
    ),
    "referrals": (
        ("referral_id", "VARCHAR"),
        ("referrer_customer_id", "VARCHAR"),
        ("referee_customer_id", "VARCHAR"),
        ("referred_at", "TIMESTAMP"),
        ("converted_at", "TIMESTAMP"),
        ("channel", "VARCHAR"),
        ("reward_cost", "DECIMAL"),
        ("currency", "VARCHAR"),
        ("would_have_joined_anyway", "BOOLEAN"),
    ),
    "social_profiles": (
        ("customer_id", "VARCHAR"),
        ("network", "VARCHAR"),
        ("followers", "INTEGER"),
        ("following", "INTEGER"),
        ("posts_90d", "INTEGER"),
        ("brand_mentions_90d", "INTEGER"),
        ("is_public", "BOOLEAN"),
        ("observed_at", "TIMESTAMP"),
    ),
    "community_activity": (
        ("activity_id", "VARCHAR"),
        ("customer_id", "VARCHAR"),
        ("activity_type", "VARCHAR"),
        ("product_category", "VARCHAR"),
        ("occurred_at", "TIMESTAMP"),
        ("helpful_votes", "INTEGER"),
        ("rating", "INTEGER"),
    ),
    "wallet_surveys": (
        ("response_id", "VARCHAR"),
        ("customer_id", "VARCHAR"),
        ("responded_at", "TIMESTAMP"),
        ("period_months", "INTEGER"),
        ("category_spend", "DECIMAL"),
        ("currency", "VARCHAR"),
        ("brands_used", "INTEGER"),
        ("brand_rank", "INTEGER"),
        ("likelihood_to_recommend", "INTEGER"),
    ),
}

#: Key columns per table (the raw_key of a rejected row joins them with '|').
KEYS: dict[str, tuple[str, ...]] = {
    "customers": ("customer_id",),
    "transactions": ("transaction_id",),
    "email_campaigns": ("campaign_id",),
    "email_events": ("event_id",),
    "referrals": ("referral_id",),
    "social_profiles": ("customer_id", "network"),
    "community_activity": ("activity_id",),
    "wallet_surveys": ("response_id",),
}

ARROW_TYPES: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(),
    "TIMESTAMP": pa.timestamp("us"),
    "DECIMAL": pa.decimal128(18, 2),
    "INTEGER": pa.int32(),
    "BOOLEAN": pa.bool_(),
}

TS_TEXT = pa.string()


def arrow_schema(table: str, timestamps_as_text: bool = False) -> pa.Schema:
    """The Arrow schema of a raw table; timestamps become strings when ``timestamps_as_text``."""
    fields = []
    for name, logical in CONTRACT[table]:
        typ = TS_TEXT if (timestamps_as_text and logical == "TIMESTAMP") else ARROW_TYPES[logical]
        fields.append(pa.field(name, typ))
    return pa.schema(fields)


def _mask(null: np.ndarray | None) -> np.ndarray | None:
    return None if null is None or not null.any() else null


def ts(seconds: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """int64 epoch seconds -> timestamp('us'); ``null`` marks NULLs."""
    return pa.array(np.asarray(seconds, dtype=np.int64) * 1_000_000, type=pa.timestamp("us"), mask=_mask(null))


def ts_text(arr: pa.Array) -> pa.Array:
    """timestamp('us') -> 'YYYY-MM-DD HH:MM:SS' strings (NULL stays NULL)."""
    return pc.cast(arr.cast(pa.timestamp("s")), pa.string())


def int32(values: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """Integers -> int32, clipped to the int32 range."""
    v = np.clip(np.asarray(values, dtype=np.int64), -(2**31), 2**31 - 1).astype(np.int32)
    return pa.array(v, type=pa.int32(), mask=_mask(null))


def boolean(values: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(values, dtype=bool), type=pa.bool_(), mask=_mask(null))


def money(cents: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """int64 cents -> decimal128(18, 2), built exactly from the two's-complement buffer."""
    c = np.ascontiguousarray(cents, dtype=np.int64)
    words = np.empty((c.size, 2), dtype=np.int64)
    words[:, 0] = c
    words[:, 1] = np.where(c < 0, -1, 0)
    arr = pa.Array.from_buffers(pa.decimal128(18, 2), c.size, [None, pa.py_buffer(words.tobytes())])
    mask = _mask(null)
    if mask is not None:
        arr = pc.if_else(pa.array(mask), pa.scalar(None, pa.decimal128(18, 2)), arr)
    return arr


def categorical(vocab: Sequence[str], idx: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """Indices into ``vocab`` -> strings."""
    arr = pa.array(list(vocab), type=pa.string()).take(pa.array(np.asarray(idx, dtype=np.int64)))
    mask = _mask(null)
    if mask is not None:
        arr = pc.if_else(pa.array(mask), pa.scalar(None, pa.string()), arr)
    return arr


def ids(prefix: str, numbers: np.ndarray, width: int, null: np.ndarray | None = None) -> pa.Array:
    """Numbers -> ids such as 'C0000042' (``prefix`` + zero-padded number)."""
    digits = pc.utf8_lpad(pc.cast(pa.array(np.asarray(numbers, dtype=np.int64)), pa.string()), width, "0")
    arr = pc.utf8_replace_slice(digits, 0, 0, prefix)
    mask = _mask(null)
    if mask is not None:
        arr = pc.if_else(pa.array(mask), pa.scalar(None, pa.string()), arr)
    return arr


def table(name: str, columns: dict[str, pa.Array]) -> pa.Table:
    """Assemble a raw table in contract order and types."""
    schema = arrow_schema(name)
    return pa.Table.from_arrays([columns[f.name] for f in schema], schema=schema)


def timestamps_to_text(tbl: pa.Table) -> pa.Table:
    """Rewrite every timestamp column as ISO text (used in --faults mode and for CSV)."""
    for i, f in enumerate(tbl.schema):
        if pa.types.is_timestamp(f.type):
            tbl = tbl.set_column(i, pa.field(f.name, TS_TEXT), ts_text(tbl.column(i).combine_chunks()))
    return tbl
