"""CLI: ``python -m customer_value.generator --customers 1000 --seed 42 --out data/demo``."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from .config import DEFAULT_SEEDS_DIR, GeneratorConfig
from .generate import generate
from .layout import as_daily_folders

MIN_CUSTOMERS = 100


def _positive_int(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text.replace("_", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date in YYYY-MM-DD form: {text!r}") from None


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 0.5:
        raise argparse.ArgumentTypeError(f"must be between 0 and 0.5, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m customer_value.generator",
        description="Generate synthetic raw data (every table of docs/raw-data-contract.md) "
        "plus the ground truth in <out>/_truth/.",
    )
    p.add_argument(
        "--customers",
        type=_positive_int(MIN_CUSTOMERS),
        default=1000,
        help=f"number of customers (>= {MIN_CUSTOMERS}; default 1000)",
    )
    p.add_argument("--seed", type=_seed, default=42, help="random seed (default 42)")
    p.add_argument("--out", type=Path, default=Path("data/demo"), help="output folder (default data/demo)")
    p.add_argument("--format", choices=("parquet", "csv"), default="parquet", help="file format (default parquet)")
    p.add_argument(
        "--faults",
        action="store_true",
        help="append rows that each break one contract rule (timestamps written as ISO text)",
    )
    p.add_argument(
        "--end-date",
        type=_date,
        default=date(2026, 6, 30),
        help="last day of the data, YYYY-MM-DD (default 2026-06-30)",
    )
    p.add_argument("--refund-rate", type=_rate, default=0.04, help="share of purchases refunded, 0-0.5 (default 0.04)")
    p.add_argument(
        "--chunk-size",
        type=_positive_int(1),
        default=100_000,
        help="customers per processing chunk (default 100000; changes the random draws)",
    )
    p.add_argument(
        "--seeds-dir",
        type=Path,
        default=DEFAULT_SEEDS_DIR,
        help="folder with the dbt seeds currency_rates.csv and category_margins.csv",
    )
    p.add_argument(
        "--daily-folders",
        action="store_true",
        help="write the event tables (transactions, email_events, community_activity) as folders: "
        "<table>/0000_history.<format> and <table>/<last day>.<format>, as daily exports arrive",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.out.exists() and not args.out.is_dir():
        parser.error(f"--out {args.out} exists and is not a folder")
    if not (args.seeds_dir / "currency_rates.csv").is_file() or not (args.seeds_dir / "category_margins.csv").is_file():
        parser.error(f"--seeds-dir {args.seeds_dir} must hold currency_rates.csv and category_margins.csv")
    if args.end_date.year >= 2099 or args.end_date.year < 1980:
        parser.error("--end-date must be between 1980 and 2098")
    today = datetime.now(UTC).date()
    if args.end_date > today and not args.quiet:
        print(
            f"warning: --end-date {args.end_date} is after today ({today}); the models reject timestamps in the future",
            file=sys.stderr,
        )
    cfg = GeneratorConfig(
        n_customers=args.customers,
        seed=args.seed,
        end_date=args.end_date,
        refund_rate=args.refund_rate,
        out=args.out,
        fmt=args.format,
        faults=args.faults,
        chunk_size=args.chunk_size,
        seeds_dir=args.seeds_dir,
        quiet=args.quiet,
    )
    try:
        summary = generate(cfg)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.daily_folders:
        as_daily_folders(args.out, args.format, args.end_date)
    if not args.quiet:
        rows = ", ".join(f"{t} {n:,}" for t, n in summary.rows.items())
        injected = sum(sum(r.values()) for r in summary.faults.values())
        print(
            f"wrote {summary.out} in {summary.seconds:.1f} s: {rows}"
            + (f"; {injected:,} fault rows" if args.faults else ""),
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
