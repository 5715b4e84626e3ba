"""Benchmark: what the CLV intervals add to int_customers_clv_predicted.

Times customer_value.clv.tables.prediction_batches (the whole Python model: predicted
CLV, P(alive), the month lists, and the 80 % intervals) on the purchase summary and the
fitted models of a build, with the intervals and with them replaced by NaN, alternating.

    python benchmarks/prediction_benchmark.py --database /path/to/a/build.duckdb [--repeats 3]

A database of a million customers: build the generator's data for the models the
prediction reads, e.g.
    python -m customer_value.generator --customers 1000000 --seed 42 --out /tmp/c1m
    RAW_DATA_DIR=/tmp/c1m DBT_DUCKDB_PATH=/tmp/c1m.duckdb dbt build --exclude-resource-type test unit_test \\
        -s +int_clv_models_compared +int_discount_factors_computed
Results: docs/validation.md, "Intervals".
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import duckdb
import numpy as np

from customer_value.clv import tables


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", type=Path, required=True)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    with duckdb.connect(str(args.database), read_only=True) as con:
        summary = (
            con.sql(
                "select customer_id, frequency, recency_weeks, t_weeks, monetary_value, margin_rate"
                " from intermediate.int_customers_rfm_summarised"
            )
            .to_arrow_table()
            .sort_by("customer_id")
        )
        parameters = con.sql("select * from intermediate.int_clv_models_fitted").to_arrow_table()
        [(chosen,)] = con.execute(
            "select model_name from intermediate.int_clv_models_compared where is_chosen"
        ).fetchall()
        [(months,)] = con.execute("select count(*) from intermediate.int_discount_factors_computed").fetchall()
        [(horizon, rate, level)] = con.execute(
            "select clv_horizon_months, annual_discount_rate, clv_interval_level from intermediate.int_analysis_settings"
        ).fetchall()

    with_intervals = tables.interval_arrays

    def without_intervals(prediction, frequency, *rest, **keywords):
        return np.full(len(frequency), np.nan), np.full(len(frequency), np.nan)

    seconds: dict[str, list[float]] = {"with intervals": [], "without": []}
    for _ in range(args.repeats):
        for label, function in (("with intervals", with_intervals), ("without", without_intervals)):
            tables.interval_arrays = function
            started = time.perf_counter()
            reader = tables.prediction_batches(
                summary,
                tables.fit_from_table(parameters, chosen),
                tables.fit_from_table(parameters, "gamma_gamma"),
                horizon_months=int(horizon),
                annual_discount_rate=float(rate),
                list_months=int(months),
                interval_level=float(level),
            )
            rows = sum(batch.num_rows for batch in reader)
            seconds[label].append(time.perf_counter() - started)
    tables.interval_arrays = with_intervals
    print(f"{rows:,} customers, purchase model {chosen}, {args.repeats} repeats (median, min-max):")
    for label, values in seconds.items():
        print(f"  {label}: {statistics.median(values):.2f} s ({min(values):.2f}-{max(values):.2f})")
    print(
        f"  intervals add {statistics.median(seconds['with intervals']) - statistics.median(seconds['without']):.2f} s"
    )


if __name__ == "__main__":
    main()
