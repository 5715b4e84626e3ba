"""The CDNOW transaction log as raw tables of the data contract (docs/raw-data-contract.md).

CDNOW is the public log behind the published BG/NBD, Pareto/NBD and MBG/NBD estimates:
every purchase of the customers who first bought from the online music retailer CDNOW in
the first quarter of 1997, up to the end of June 1998 (23,570 customers in
``CDNOW_master.txt``; the 1-in-10 sample of 2,357 customers the papers fit is
``CDNOW_sample.txt``). Both files ship inside the ``lifetimes`` wheel.

Each line is ``<master id> [<sample id>] <yyyymmdd> <number of CDs> <dollar value>``.
The raw tables written here: ``customers`` (created at the first purchase, channel
``unknown``, country ``US``, no email) and ``transactions`` (one purchase per line, USD,
no cost and no category, so margins come from ``default_margin_rate``). Nobody generated
these rows: a build on them checks the project on data from another decade and another
business.

    python -m customer_value.datasets.cdnow --which sample --out /tmp/cdnow
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

Which = Literal["sample", "master"]

#: End of the published calibration period (39 weeks from 1997-01-01): the as_of_date the
#: papers' estimates correspond to.
CALIBRATION_END = "1997-09-30"
#: Last day of the log.
LOG_END = "1998-06-30"


def log_path(which: Which = "sample") -> Path:
    """Where the ``lifetimes`` wheel keeps ``CDNOW_<which>.txt``."""
    import lifetimes

    path = Path(lifetimes.__file__).parent / "datasets" / f"CDNOW_{which}.txt"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: install lifetimes (requirements.txt)")
    return path


def read_log(which: Which = "sample") -> dict[str, np.ndarray]:
    """The log's columns: customer (int), day (datetime64[D]), cds (int), dollars (float).

    The customer is the sample id for the sample (1..2357, the ids the papers use) and
    the master id for the master file."""
    rows = np.loadtxt(log_path(which), dtype=np.float64, ndmin=2)
    day_col, customer_col = (2, 1) if which == "sample" else (1, 0)
    yyyymmdd = rows[:, day_col].astype(np.int64)
    days = np.array([f"{d // 10000:04d}-{d // 100 % 100:02d}-{d % 100:02d}" for d in yyyymmdd], dtype="datetime64[D]")
    return {
        "customer": rows[:, customer_col].astype(np.int64),
        "day": days,
        "cds": rows[:, day_col + 1].astype(np.int64),
        "dollars": rows[:, day_col + 2],
    }


def raw_tables(which: Which = "sample") -> dict[str, pa.Table]:
    """``customers`` and ``transactions`` in the contract's shape."""
    log = read_log(which)
    order = np.lexsort((log["day"], log["customer"]))
    customer, day, dollars = log["customer"][order], log["day"][order], log["dollars"][order]
    ids = pc.binary_join_element_wise("C", pc.utf8_lpad(pc.cast(pa.array(customer), pa.string()), 5, "0"), "")
    first = np.r_[True, customer[1:] != customer[:-1]]
    # A purchase at noon UTC: the log has days only.
    noon = day.astype("datetime64[s]") + np.timedelta64(12, "h")
    customers = pa.table(
        {
            "customer_id": ids.filter(pa.array(first)),
            "email": pa.nulls(int(first.sum()), pa.string()),
            "created_at": pa.array(noon[first], pa.timestamp("us")),
            "acquisition_channel": pa.array(["unknown"] * int(first.sum())),
            "country": pa.array(["US"] * int(first.sum())),
        }
    )
    n = len(customer)
    transactions = pa.table(
        {
            "transaction_id": pc.binary_join_element_wise(
                "T", pc.utf8_lpad(pc.cast(pa.array(np.arange(1, n + 1)), pa.string()), 6, "0"), ""
            ),
            "customer_id": ids,
            "transacted_at": pa.array(noon, pa.timestamp("us")),
            "transaction_type": pa.array(["purchase"] * n),
            "amount": pa.array(np.round(dollars, 2).astype(str).tolist()).cast(pa.decimal128(18, 2)),
            "cost": pa.nulls(n, pa.decimal128(18, 2)),
            "currency": pa.array(["USD"] * n),
            "product_category": pa.nulls(n, pa.string()),
            "refunded_transaction_id": pa.nulls(n, pa.string()),
        }
    )
    return {"customers": customers, "transactions": transactions}


def write_raw(out: Path, which: Which = "sample") -> Path:
    """Write ``customers.parquet`` and ``transactions.parquet`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    for name, table in raw_tables(which).items():
        pq.write_table(table, out / f"{name}.parquet")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--which", choices=("sample", "master"), default="sample")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    write_raw(args.out, args.which)
    print(f"CDNOW {args.which} written to {args.out} (as_of_date {CALIBRATION_END} for the published estimates)")


if __name__ == "__main__":
    main()
