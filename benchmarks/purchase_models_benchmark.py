"""Benchmark: fit and predict with every purchase model (BG/NBD, MBG/NBD, Pareto/NBD).

    .venv/bin/python benchmarks/purchase_models_benchmark.py --customers 1000000
    .venv/bin/python benchmarks/purchase_models_benchmark.py --summary /tmp/summary.npz

Per model, on customers simulated from that model (tests/python/test_purchase_models.py's
simulators; BG/NBD from test_clv.py's), with days-granular recency (whole days / 7, as
the dbt summary has it): the fit (best of ``--repeats``), then, at the fitted parameters,
predict_clv over 12 months with a Gamma-Gamma fit, P(alive), the 52-week conditional
expectation, the 12 monthly expectations (expected_purchases_by_period) and the
repeat-purchase histogram.  With ``--summary`` (an .npz with x, t_x and T, e.g. built
from the generator's transactions) every model is fitted to those customers instead.
Prints the seconds; writes nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "python")]

from customer_value.clv import PURCHASE_MODELS, WEEKS_PER_MONTH, fit_gamma_gamma, predict_clv  # noqa: E402


def simulated(name: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import test_clv
    import test_purchase_models as tpm

    if name == "bg_nbd":
        x, t_x, T, _, _ = test_clv.simulate(n, seed)
    elif name == "mbg_nbd":
        x, t_x, T, _, _ = tpm.simulate_mbgnbd(n, seed)
    else:
        x, t_x, T, _, _ = tpm.simulate_paretonbd(n, seed)
    days = np.where(x > 0, np.clip(np.ceil(t_x * 7.0 - 1e-9), 1, np.rint(T * 7.0)), 0.0)
    return x, days / 7.0, T


def timed(fn, *args, repeats: int = 1, **kwargs):
    """``fn(*args, **kwargs)`` and the best of ``repeats`` timings."""
    best, out = np.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn(*args, **kwargs)
        best = min(best, time.perf_counter() - t0)
    return out, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--summary", type=Path, help="fit every model to these customers (npz: x, t_x, T)")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    for name, model in PURCHASE_MODELS.items():
        if args.summary:
            data = np.load(args.summary)
            x, t_x, T = data["x"], data["t_x"], data["T"]
        else:
            x, t_x, T = simulated(name, args.customers, args.seed)
        m = np.where(x > 0, rng.gamma(6.0 * np.maximum(x, 1), 1 / rng.gamma(3.5, 1 / 40.0, len(x))), np.nan)
        m /= np.maximum(x, 1)
        fit, fit_s = timed(model.fit, x, t_x, T, repeats=args.repeats)
        gg = fit_gamma_gamma(x, m)
        _, clv_s = timed(predict_clv, x, t_x, T, m, fit, gg, horizon_months=12, margin_rate=0.3)
        _, alive_s = timed(model.probability_alive, x, t_x, T, fit)
        _, expected_s = timed(model.expected_purchases, 52.0, x, t_x, T, fit)
        ends = np.arange(1, 13) * WEEKS_PER_MONTH
        _, period_s = timed(model.expected_purchases_by_period, x, t_x, T, fit, ends)
        _, histogram_s = timed(model.expected_repeat_purchase_counts, T, fit, 8)
        params = ", ".join(f"{k}={v:.4g}" for k, v in fit.params.items())
        print(
            f"{model.label:10s} n={len(x):,} distinct={fit.n_distinct:,} fit {fit_s:.2f} s ({params}; {fit.message}) | "
            f"predict_clv {clv_s:.2f} s, P(alive) {alive_s:.2f} s, E[52 weeks] {expected_s:.2f} s, "
            f"12 months {period_s:.2f} s, histogram {histogram_s:.2f} s"
        )


if __name__ == "__main__":
    main()
