"""Benchmark and check of the CLV intervals (customer_value.clv.intervals).

    .venv/bin/python benchmarks/interval_benchmark.py speed --customers 1000000
    .venv/bin/python benchmarks/interval_benchmark.py coverage --customers 1000000 --seed 11

``speed``: the summary of clv_benchmark.py (BG/NBD + Gamma-Gamma, whole days over three
years), fitted, predicted (12 months, 10 %/year, margin 0.3), then
``clv_value_distribution`` + ``interval(0.8)`` timed ``--repeats`` times (median), with
the fits' parameter uncertainty (sigma points, P(alive) re-evaluated at each) and
without.  The CLV prediction itself is timed too, for scale.

``coverage``: the project's generator (``--customers``, ``--seed``; cached under
``--data-dir``), the domain summary at 2025-06-30 and each customer's net value in the
next 12 months (customer_value.clv.holdout), BG/NBD + Gamma-Gamma fitted on the summary,
intervals for 12 months at 0 % and 10 %/year; prints coverage overall and by P(0) band
(plain, what the model promises, randomised PIT) and the interval sizes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
BANDS = [(0.0, 0.1), (0.1, 0.3), (0.3, 0.5), (0.5, 0.8), (0.8, 0.95), (0.95, 1.0001)]


def speed(n: int, seed: int, repeats: int) -> None:
    from clv_benchmark import simulate

    from customer_value.clv import WEEKS_PER_MONTH, fit_bgnbd, fit_gamma_gamma, predict_clv
    from customer_value.clv._common import N_THREADS
    from customer_value.clv.intervals import clv_value_distribution, discount_ratio, probability_alive_function

    x, t_x, T, m = simulate(n, seed)
    bg, gg = fit_bgnbd(x, t_x, T), fit_gamma_gamma(x, m)
    w0 = time.perf_counter()
    pred = predict_clv(x, t_x, T, m, bg, gg, horizon_months=12, margin_rate=0.3, annual_discount_rate=0.1)
    predict_seconds = time.perf_counter() - w0
    ratio = discount_ratio(pred.predicted_clv, pred.expected_purchases, pred.expected_spend, 0.3)
    alive = probability_alive_function("bg_nbd", x, t_x, T)
    print(f"{n:,} customers, CLV_THREADS={N_THREADS}; predict_clv {predict_seconds:.2f} s")
    for label, cov_bg, cov_gg, p_alive in (
        ("with parameter uncertainty", bg.log_covariance, gg.log_covariance, alive),
        ("without", None, None, pred.probability_alive),
    ):
        times, cpu = [], []
        for _ in range(repeats):
            w0, c0 = time.perf_counter(), time.process_time()
            dist = clv_value_distribution(
                "bg_nbd", bg.params, cov_bg, gg.params, cov_gg, x, T, m, p_alive, 0.3, ratio, 12 * WEEKS_PER_MONTH
            )
            low, _high = dist.interval(0.8)
            times.append(time.perf_counter() - w0)
            cpu.append(time.process_time() - c0)
        bands = np.histogram(dist.p_zero, bins=[0, 0.1, 0.8, 1.0001])[0]
        print(
            f"  {label}: {statistics.median(times):.2f} s median of {repeats} (min {min(times):.2f}, "
            f"CPU {statistics.median(cpu):.2f} s); P(0) < 0.1 / 0.1-0.8 / >= 0.8: {bands.tolist()}; "
            f"finite bounds {np.isfinite(low).mean():.4f}"
        )


def coverage(n: int, seed: int, data_dir: Path) -> None:
    from customer_value.clv import WEEKS_PER_MONTH, fit_bgnbd, fit_gamma_gamma, predict_clv
    from customer_value.clv.holdout import summary_and_holdout
    from customer_value.clv.intervals import clv_value_distribution, discount_ratio, probability_alive_function

    raw = data_dir / f"intervals_{n}_{seed}"
    if not (raw / "transactions.parquet").exists():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "customer_value.generator",
                "--customers",
                str(n),
                "--seed",
                str(seed),
                "--out",
                str(raw),
                "--quiet",
            ],
            check=True,
        )
    df = summary_and_holdout(raw, dt.date(2025, 6, 30), annual_discount_rate=0.10)
    x, t_x, T, m = (df[c].to_numpy() for c in ("frequency", "recency", "T", "monetary"))
    bg, gg = fit_bgnbd(x, t_x, T), fit_gamma_gamma(x, m)
    print(f"generator: {n:,} customers, seed {seed}; {len(x):,} had bought by 2025-06-30")
    print(f"BG/NBD {bg.params}\nGamma-Gamma {gg.params}")
    for rate, column in ((0.0, "actual_value"), (0.10, "actual_value_discounted")):
        actual = df[column].to_numpy()
        pred = predict_clv(x, t_x, T, m, bg, gg, horizon_months=12, annual_discount_rate=rate)
        ratio = discount_ratio(pred.predicted_clv, pred.expected_purchases, pred.expected_spend, 1.0)
        dist = clv_value_distribution(
            "bg_nbd",
            bg.params,
            bg.log_covariance,
            gg.params,
            gg.log_covariance,
            x,
            T,
            m,
            probability_alive_function("bg_nbd", x, t_x, T),
            1.0,
            ratio,
            12 * WEEKS_PER_MONTH,
        )
        low, high = dist.interval(0.8)
        inside = (actual >= low) & (actual <= high)
        promised = np.where(dist.p_zero < 0.8, 0.8, dist.p_zero)
        pit = dist.randomized_pit(actual, np.random.default_rng(seed).random(len(x)))
        pit80 = (pit >= 0.1) & (pit <= 0.9)
        print(
            f"\ndiscount {rate:.0%}/year: plain coverage {inside.mean():.3f} (the model promises "
            f"{promised.mean():.3f}); randomised PIT in [0.1, 0.9] {pit80.mean():.3f}; PIT deciles "
            f"{np.round(np.histogram(pit, bins=10, range=(0, 1))[0] / len(pit), 3).tolist()}"
        )
        print(
            "| P(0) | customers | plain coverage | promised | PIT coverage | below low | above high "
            "| median low / predicted CLV | median high / predicted CLV |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for lo, hi in BANDS:
            g = (dist.p_zero >= lo) & (dist.p_zero < hi)
            if not g.any():
                continue
            with np.errstate(divide="ignore", invalid="ignore"):
                rel_low = np.median(low[g] / pred.predicted_clv[g])
                rel = np.median(high[g] / pred.predicted_clv[g])
            print(
                f"| {lo:.2f}-{min(hi, 1.0):.2f} | {g.sum():,} | {inside[g].mean():.3f} | {promised[g].mean():.3f} "
                f"| {pit80[g].mean():.3f} | {np.mean(actual[g] < low[g]):.3f} | {np.mean(actual[g] > high[g]):.3f} "
                f"| {rel_low:.2f} | {rel:.2f} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("speed", "coverage"))
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp"))
    args = parser.parse_args()
    if args.what == "speed":
        speed(args.customers, args.seed, args.repeats)
    else:
        coverage(args.customers, args.seed, args.data_dir)


if __name__ == "__main__":
    main()
