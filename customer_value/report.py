"""The marketers' report: one self-contained HTML page (and its PNGs) from the serving copy.

``python -m customer_value.report`` (what ``scripts/report.sh`` runs) opens
``SERVING_DIR/customer_value.duckdb`` read-only and writes into ``--out`` (default
``data/report``):

- ``report.html``: everything below, the PNGs embedded (base64), no external URL;
- ``clv_crv_matrix.png``: every customer on the CLV x CRV matrix, log scales, the two
  thresholds as lines, coloured by value segment;
- ``segment_migrations.png``: customers moving between segments from the
  second-to-last to the last recorded as_of_date (only when there are two);
- ``clv_model_fit.png``: the BG/NBD fit check of Fader, Hardie & Lee (2005), Figure 3:
  actual and expected customers per number of repeat purchases.

It reads only the marts (customer_segments, segment_summary, segment_migrations,
clv_model_parameters); docs/report.md says what each part shows and how it is computed.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import html
import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import matplotlib
import numpy as np
import pandas as pd

matplotlib.use("Agg")  # renders to files, no display, no network

import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
from matplotlib.colors import LinearSegmentedColormap  # noqa: E402

from .clv import BgNbdFit, bgnbd_expected_repeat_purchase_counts  # noqa: E402

PROJECT_DIR = Path(__file__).resolve().parents[1]
DEFAULT_SERVING_DIR = "data/serving"
DEFAULT_OUT_DIR = "data/report"
SERVING_FILE = "customer_value.duckdb"
MAX_REPEAT_PURCHASES = 7  # the fit check's last bar is "7 or more", as in the paper
MONEY_FLOOR = 0.01  # the matrix draws amounts up to a cent (zero included) on its lowest line

# Okabe-Ito colours (distinguishable with colour-blindness), one per value segment.
SEGMENT_COLOURS = {
    "champion": "#009E73",
    "affluent": "#0072B2",
    "advocate": "#E69F00",
    "miser": "#999999",
    "high_clv": "#56B4E9",
    "low_clv": "#D55E00",
    "prospect": "#CC79A7",
}
SEGMENT_ORDER = list(SEGMENT_COLOURS)


# --- data ----------------------------------------------------------------------------


@dataclass
class ReportData:
    customers: pd.DataFrame
    summary: pd.DataFrame
    migrations: pd.DataFrame
    parameters: pd.DataFrame
    serving_file: Path

    @property
    def as_of_date(self) -> dt.date | None:
        dates = self.customers["as_of_date"].dropna()
        return None if dates.empty else pd.Timestamp(dates.iloc[0]).date()

    @property
    def currency(self) -> str:
        values = self.customers["reporting_currency"].dropna()
        return "" if values.empty else str(values.iloc[0])


def load(serving_file: Path) -> ReportData:
    """The four marts, read from the serving copy opened read-only."""
    with duckdb.connect(str(serving_file), read_only=True) as con:

        def table(sql: str) -> pd.DataFrame:
            return con.execute(sql).df()

        return ReportData(
            customers=table(
                """
                select
                    customer_id, as_of_date, reporting_currency, value_segment, value_segment_label,
                    is_prospect, segment_clv_measure, is_high_clv, is_high_crv,
                    cast(predicted_clv as double) as predicted_clv,
                    cast(historical_clv as double) as historical_clv,
                    cast(crv as double) as crv,
                    cast(frequency as double) as frequency,
                    cast(t_weeks as double) as t_weeks
                from marts.customer_segments
                """
            ),
            summary=table("select * from marts.segment_summary"),
            migrations=table("select * from marts.segment_migrations"),
            parameters=table("select * from marts.clv_model_parameters"),
            serving_file=serving_file,
        )


def segment_sort_key(segment: str) -> int:
    return SEGMENT_ORDER.index(segment) if segment in SEGMENT_ORDER else len(SEGMENT_ORDER)


@dataclass
class Matrix:
    """The customers on the CLV x CRV matrix and its thresholds."""

    clv_measure: str
    clv: np.ndarray
    crv: np.ndarray
    segment: np.ndarray
    clv_threshold: float | None
    crv_threshold: float | None
    clv_floor: float
    crv_floor: float
    clv_at_floor: int
    crv_at_floor: int


def matrix(data: ReportData) -> Matrix:
    """The segment's CLV measure (predicted_clv, or historical_clv when the models were
    not fitted) and CRV of every customer; the thresholds are the lowest value among
    the buyers marked high (is_high_clv, is_high_crv). Zero cannot be drawn on a log
    scale, and amounts below a cent mean nothing to a marketer: values up to
    MONEY_FLOOR are drawn on the axis' lowest line, labelled as such."""
    customers = data.customers
    measures = customers.loc[~customers["is_prospect"].astype(bool), "segment_clv_measure"].dropna()
    clv_measure = measures.mode().iloc[0] if not measures.empty else "predicted_clv"
    clv = customers[clv_measure].to_numpy(dtype=float)
    crv = customers["crv"].to_numpy(dtype=float)
    buyers = ~customers["is_prospect"].astype(bool).to_numpy()

    def threshold(values: np.ndarray, flag: str) -> float | None:
        high = buyers & customers[flag].fillna(False).astype(bool).to_numpy() & np.isfinite(values)
        return float(values[high].min()) if high.any() else None

    clv_floor = crv_floor = MONEY_FLOOR
    clv_drawn = np.where(np.isfinite(clv) & (clv > clv_floor), clv, clv_floor)
    crv_drawn = np.where(np.isfinite(crv) & (crv > crv_floor), crv, crv_floor)
    return Matrix(
        clv_measure=clv_measure,
        clv=clv_drawn,
        crv=crv_drawn,
        segment=customers["value_segment"].fillna("unknown").to_numpy(),
        clv_threshold=threshold(clv, "is_high_clv"),
        crv_threshold=threshold(crv, "is_high_crv"),
        clv_floor=clv_floor,
        crv_floor=crv_floor,
        clv_at_floor=int((clv_drawn == clv_floor).sum()),
        crv_at_floor=int((crv_drawn == crv_floor).sum()),
    )


@dataclass
class FitCheck:
    """Actual and expected customers per number of repeat purchases (last: or more)."""

    labels: list[str]
    actual: np.ndarray
    expected: np.ndarray | None
    parameters: dict[str, float]
    n_customers: int
    log_likelihood: float | None
    converged: bool
    message: str


def fit_check(data: ReportData) -> FitCheck:
    """The BG/NBD fit check: for the customers the model saw (frequency and t_weeks
    known), the actual count per number of repeat purchases (frequency) against the
    expected count, the sum over customers of P(X(T_i) = x) at the fitted parameters
    (customer_value.clv.bgnbd_probability_of_purchases, paper eq. 8)."""
    rows = data.parameters[data.parameters["model_name"] == "bg_nbd"]
    parameters = {row.parameter_name: row.parameter_value for row in rows.itertuples()}
    first = rows.iloc[0] if not rows.empty else None
    converged = bool(first is not None and first["is_converged"])
    seen = data.customers.dropna(subset=["frequency", "t_weeks"])
    frequency = seen["frequency"].to_numpy(dtype=float)
    actual = np.bincount(np.minimum(frequency, MAX_REPEAT_PURCHASES).astype(int), minlength=MAX_REPEAT_PURCHASES + 1)
    expected = None
    if converged:
        fit = BgNbdFit(
            **{name: float(parameters[name]) for name in ("r", "alpha", "a", "b")},
            log_likelihood=float(first["log_likelihood"]),
            n_customers=int(first["n_customers"]),
            converged=True,
            message=str(first["fit_message"]),
        )
        expected = bgnbd_expected_repeat_purchase_counts(seen["t_weeks"].to_numpy(dtype=float), fit, MAX_REPEAT_PURCHASES)
    return FitCheck(
        labels=[str(x) for x in range(MAX_REPEAT_PURCHASES)] + [f"{MAX_REPEAT_PURCHASES}+"],
        actual=actual,
        expected=expected,
        parameters={name: float(value) for name, value in parameters.items() if value is not None},
        n_customers=int(first["n_customers"]) if first is not None else 0,
        log_likelihood=None if first is None or pd.isna(first["log_likelihood"]) else float(first["log_likelihood"]),
        converged=converged,
        message="" if first is None else str(first["fit_message"]),
    )


@dataclass
class Migrations:
    from_date: dt.date
    to_date: dt.date
    table: pd.DataFrame  # from_segment x to_segment, customers


def last_migrations(data: ReportData) -> Migrations | None:
    """The moves between the last two recorded as_of_dates, or None with fewer than two."""
    moves = data.migrations
    if moves.empty:
        return None
    to_date = moves["to_as_of_date"].max()
    last = moves[moves["to_as_of_date"] == to_date]
    from_date = last["from_as_of_date"].max()
    last = last[last["from_as_of_date"] == from_date]
    table = last.pivot_table(index="from_segment", columns="to_segment", values="customers", aggfunc="sum", fill_value=0)

    def order(names) -> list[str]:
        special = {"new": -1, "unknown": 98, "gone": 99}
        return sorted(names, key=lambda name: (special.get(name, segment_sort_key(name)), name))

    table = table.loc[order(table.index), order(table.columns)].astype(int)
    return Migrations(pd.Timestamp(from_date).date(), pd.Timestamp(to_date).date(), table)


# --- figures -------------------------------------------------------------------------


def png(figure: plt.Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def money(value: float | None, currency: str = "") -> str:
    if value is None or pd.isna(value):
        return "–"
    return f"{value:,.0f}" + (f" {currency}" if currency else "")


def matrix_figure(m: Matrix, labels: dict[str, str], currency: str) -> bytes:
    figure, axes = plt.subplots(figsize=(9, 7))
    present = sorted(set(m.segment), key=segment_sort_key)
    for segment in present:
        chosen = m.segment == segment
        axes.scatter(
            m.clv[chosen], m.crv[chosen], s=9, alpha=0.55, linewidths=0,
            color=SEGMENT_COLOURS.get(segment, "#000000"),
            label=f"{labels.get(segment, segment)} ({chosen.sum():,})",
        )
    axes.set_xscale("log")
    axes.set_yscale("log")
    if m.clv_threshold is not None:
        axes.axvline(m.clv_threshold, color="#333333", linestyle="--", linewidth=1.2)
        axes.annotate(f"high CLV from {money(m.clv_threshold)}", (m.clv_threshold, 1.0), xycoords=("data", "axes fraction"),
                      xytext=(4, -12), textcoords="offset points", fontsize=8, color="#333333")
    if m.crv_threshold is not None:
        axes.axhline(m.crv_threshold, color="#333333", linestyle="--", linewidth=1.2)
        axes.annotate(f"high CRV from {money(m.crv_threshold)}", (1.0, m.crv_threshold), xycoords=("axes fraction", "data"),
                      xytext=(-4, 4), textcoords="offset points", fontsize=8, color="#333333", ha="right")
    axes.axvline(m.clv_floor, color="#bbbbbb", linewidth=0.8, zorder=0)
    axes.axhline(m.crv_floor, color="#bbbbbb", linewidth=0.8, zorder=0)
    for axis, values, floor, set_limits in (
        (axes.xaxis, m.clv, m.clv_floor, axes.set_xlim),
        (axes.yaxis, m.crv, m.crv_floor, axes.set_ylim),
    ):
        top = max(float(np.nanmax(values)) if values.size else 1.0, floor * 10)
        decades = 10.0 ** np.arange(np.log10(floor), np.ceil(np.log10(top)) + 1)
        axis.set_ticks(decades, [f"≤ {floor:g}"] + [f"{value:,g}" for value in decades[1:]])
        axis.set_minor_locator(matplotlib.ticker.NullLocator())
        set_limits(floor / 1.8, decades[-1] * 1.2)
    unit = f" ({currency})" if currency else ""
    measure = m.clv_measure.replace("_", " ").replace("clv", "CLV")
    axes.set_xlabel(f"{measure}{unit}, log scale")
    axes.set_ylabel(f"CRV{unit}, log scale")
    axes.set_title("Customer value: CLV x CRV, one point per customer")
    axes.grid(True, which="major", color="#eeeeee", linewidth=0.8)
    legend = axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, markerscale=2.5, frameon=False,
                         title="value segment (customers)")
    legend.get_title().set_fontsize(8)
    for handle in legend.legend_handles:
        handle.set_alpha(1)
    return png(figure)


def fit_figure(check: FitCheck) -> bytes:
    figure, axes = plt.subplots(figsize=(8, 4.5))
    positions = np.arange(len(check.labels))
    width = 0.4
    axes.bar(positions - width / 2, check.actual, width, label="actual", color="#0072B2")
    if check.expected is not None:
        axes.bar(positions + width / 2, check.expected, width, label="expected (BG/NBD)", color="#E69F00")
    axes.set_xticks(positions, check.labels)
    axes.set_xlabel("repeat purchases (purchase days after the first) up to as_of_date")
    axes.set_ylabel("customers")
    axes.set_title("CLV model fit: customers per number of repeat purchases")
    axes.grid(True, axis="y", color="#eeeeee")
    axes.set_axisbelow(True)
    axes.legend()
    return png(figure)


def migrations_figure(moves: Migrations) -> bytes:
    table = moves.table
    figure, axes = plt.subplots(figsize=(1.6 + 1.1 * len(table.columns), 1.2 + 0.55 * len(table.index)))
    values = table.to_numpy(dtype=float)
    colours = LinearSegmentedColormap.from_list("moves", ["#ffffff", "#0072B2"])
    axes.imshow(np.log1p(values), cmap=colours, aspect="auto")
    axes.set_xticks(range(len(table.columns)), table.columns, rotation=30, ha="right")
    axes.set_yticks(range(len(table.index)), table.index)
    high = np.log1p(values).max() if values.size else 0
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            if values[i, j]:
                dark = np.log1p(values[i, j]) > 0.6 * high
                axes.text(j, i, f"{int(values[i, j]):,}", ha="center", va="center", fontsize=8,
                          color="white" if dark else "black")
    axes.set_xlabel(f"segment on {moves.to_date}")
    axes.set_ylabel(f"segment on {moves.from_date}")
    axes.set_title("Customers moving between segments")
    return png(figure)


# --- HTML ----------------------------------------------------------------------------

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
.meta { color: #666; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
th, td { border-bottom: 1px solid #e4e4e4; padding: 0.35em 0.7em; text-align: left; vertical-align: top; }
th { background: #f5f5f5; }
td.number, th.number { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
img { max-width: 100%; height: auto; }
td.segment { white-space: nowrap; }
.swatch { display: inline-block; width: 0.8em; height: 0.8em; border-radius: 50%; margin-right: 0.4em; }
.note { color: #555; font-size: 0.92em; }
"""


def esc(value: object) -> str:
    return html.escape("" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value))


def image(data: bytes, alt: str) -> str:
    return f'<img alt="{esc(alt)}" src="data:image/png;base64,{base64.b64encode(data).decode("ascii")}">'


def percent(value: float | None) -> str:
    return "–" if value is None or pd.isna(value) else f"{100 * value:.1f} %"


def summary_table(rows: pd.DataFrame, table_id: str, currency: str, with_swatch: bool) -> str:
    head = (
        "<tr><th>segment</th><th class='number'>customers</th><th class='number'>share</th>"
        f"<th class='number'>net revenue ({esc(currency)})</th><th class='number'>mean predicted CLV</th>"
        "<th class='number'>predicted CLV</th><th class='number'>CRV</th><th>what to do</th></tr>"
    )
    body = []
    for row in rows.itertuples():
        swatch = (
            f"<span class='swatch' style='background:{SEGMENT_COLOURS.get(row.segment, '#000')}'></span>"
            if with_swatch else ""
        )
        body.append(
            f"<tr data-segment='{esc(row.segment)}'>"
            f"<td class='segment'>{swatch}{esc(row.segment_label)}</td>"
            f"<td class='number customers'>{int(row.customers):,}</td>"
            f"<td class='number'>{percent(row.customer_share)}</td>"
            f"<td class='number'>{money(row.net_revenue_to_date)}</td>"
            f"<td class='number'>{money(row.mean_predicted_clv)}</td>"
            f"<td class='number'>{money(row.predicted_clv)}</td>"
            f"<td class='number'>{money(row.crv)}</td>"
            f"<td>{esc(row.recommended_action_text)}</td></tr>"
        )
    return f"<table id='{table_id}'><thead>{head}</thead><tbody>{''.join(body)}</tbody></table>"


def migrations_table(moves: Migrations) -> str:
    table = moves.table
    head = "<tr><th>from \\ to</th>" + "".join(f"<th class='number'>{esc(c)}</th>" for c in table.columns) + "</tr>"
    body = "".join(
        f"<tr data-from='{esc(index)}'><th>{esc(index)}</th>"
        + "".join(f"<td class='number' data-to='{esc(c)}'>{int(table.loc[index, c]):,}</td>" for c in table.columns)
        + "</tr>"
        for index in table.index
    )
    return f"<table id='segment-migrations'><thead>{head}</thead><tbody>{body}</tbody></table>"


def fit_table(check: FitCheck) -> str:
    rows = "".join(
        f"<tr><td>{esc(label)}</td><td class='number'>{int(actual):,}</td>"
        f"<td class='number'>{'–' if check.expected is None else f'{check.expected[i]:,.1f}'}</td></tr>"
        for i, (label, actual) in enumerate(zip(check.labels, check.actual))
    )
    return (
        "<table id='clv-model-fit'><thead><tr><th>repeat purchases</th><th class='number'>actual customers</th>"
        f"<th class='number'>expected customers</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def render(data: ReportData, images: dict[str, bytes], m: Matrix, check: FitCheck, moves: Migrations | None) -> str:
    currency = data.currency
    customers = data.customers
    buyers = int((~customers["is_prospect"].astype(bool)).sum())
    labels = dict(zip(customers["value_segment"], customers["value_segment_label"]))
    summary = data.summary
    segments = summary[summary["segment_kind"] == "value_segment"].copy()
    segments = segments.sort_values("segment", key=lambda s: s.map(segment_sort_key))
    groups = summary[summary["segment_kind"] == "group"].sort_values("customers", ascending=False)
    measure = m.clv_measure.replace("_", " ").replace("clv", "CLV")
    at_floor = []
    if m.clv_at_floor:
        at_floor.append(
            f"{m.clv_at_floor:,} customers with a {esc(measure)} of at most {m.clv_floor:g} (zero included) "
            "are drawn on the grey line at the left"
        )
    if m.crv_at_floor:
        at_floor.append(f"{m.crv_at_floor:,} with a CRV of at most {m.crv_floor:g} on the grey line at the bottom")

    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>Customer value report {esc(data.as_of_date)}</title><style>{STYLE}</style></head><body>",
        "<h1>Customer value report</h1>",
        f"<p class='meta'>As of <strong id='as-of-date'>{esc(data.as_of_date)}</strong>: "
        f"<span id='customer-count'>{len(customers):,}</span> customers, {buyers:,} of whom have bought. "
        f"Money in {esc(currency)}. From the serving copy <code>{esc(data.serving_file.name)}</code>, "
        f"rendered {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC.</p>",
        "<h2>Who is worth what: CLV x CRV</h2>",
        f"<p>Each point is a customer: across, the {esc(measure)} (what they are expected to buy, "
        "discounted, over the CLV horizon); up, the customer referral value (what the customers they "
        "bring in are worth). The dashed lines are the thresholds of the segments: "
        f"<strong>high CLV</strong> from {money(m.clv_threshold, currency)} (the lowest {esc(measure)} among "
        "buyers marked high CLV, the top quarter by default), "
        f"<strong>high CRV</strong> from {money(m.crv_threshold, currency)} (the lowest CRV among buyers marked "
        "high CRV). High CRV also needs evidence from the customer's own referral record, so a point above the "
        "CRV line can still be a low-CRV segment; prospects (never bought) are outside the two-by-two.</p>",
        image(images["clv_crv_matrix"], "CLV x CRV matrix, one point per customer, coloured by value segment"),
        f"<p class='note'>{'; '.join(at_floor) + '.' if at_floor else ''}</p>",
        "<h2>The segments and what to do</h2>",
        summary_table(segments, "segment-summary", currency, with_swatch=True),
        "<p>Groups (a customer can be in several, and in any segment):</p>",
        summary_table(groups, "group-summary", currency, with_swatch=False),
        "<h2>Moves between segments</h2>",
    ]
    if moves is None:
        parts.append(
            "<p id='no-migrations'>Only one as_of_date is recorded so far: the moves between segments appear "
            "once the project has been built at a later as_of_date.</p>"
        )
    else:
        parts += [
            f"<p>Customers by their segment on {esc(moves.from_date)} (rows) and on {esc(moves.to_date)} "
            "(columns): the diagonal stayed, <em>new</em> customers were not known at the earlier date.</p>",
            image(images["segment_migrations"], "customers moving between segments"),
            migrations_table(moves),
        ]
    parts.append("<h2>Does the CLV model fit?</h2>")
    if check.expected is None:
        parts.append(f"<p id='model-not-fitted'>The BG/NBD model was not fitted: {esc(check.message)}.</p>")
    else:
        names = ", ".join(f"{name} = {value:.4g}" for name, value in check.parameters.items())
        parts += [
            "<p>The check of Fader, Hardie and Lee (2005, Figure 3): for the customers the purchase model "
            "saw, how many made 0, 1, 2, ... repeat purchases up to as_of_date, against how many the fitted "
            "BG/NBD model expects, given how long each of them has been a customer. Bars of similar height "
            "mean the model describes the purchase counts well, and its predicted CLV can be trusted as a "
            "ranking.</p>",
            image(images["clv_model_fit"], "actual and expected customers per number of repeat purchases"),
            fit_table(check),
            f"<p class='note'>BG/NBD fitted on {check.n_customers:,} customers: {esc(names)} "
            f"(time in weeks); log-likelihood {check.log_likelihood:,.1f}; {esc(check.message)}.</p>",
        ]
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(serving_file: Path, out_dir: Path) -> Path:
    """Renders the report from `serving_file` into `out_dir`; returns the HTML's path."""
    data = load(serving_file)
    m = matrix(data)
    check = fit_check(data)
    moves = last_migrations(data)
    labels = dict(zip(data.customers["value_segment"], data.customers["value_segment_label"]))
    images = {"clv_crv_matrix": matrix_figure(m, labels, data.currency), "clv_model_fit": fit_figure(check)}
    if moves is not None:
        images["segment_migrations"] = migrations_figure(moves)
    out_dir.mkdir(parents=True, exist_ok=True)
    stale = out_dir / "segment_migrations.png"
    if moves is None and stale.exists():
        stale.unlink()
    for name, content in images.items():
        replace_file(out_dir / f"{name}.png", content)
    page = out_dir / "report.html"
    replace_file(page, render(data, images, m, check, moves).encode("utf-8"))
    return page


def replace_file(path: Path, content: bytes) -> None:
    """Writes under a temporary name, then renames over `path` (a reader never sees half)."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(content)
    os.replace(temporary, path)


def project_path(value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else PROJECT_DIR / path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m customer_value.report", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--serving-dir", default=os.environ.get("SERVING_DIR") or DEFAULT_SERVING_DIR,
        help=f"folder of the serving copy (default SERVING_DIR or {DEFAULT_SERVING_DIR})",
    )
    parser.add_argument("--out", default=DEFAULT_OUT_DIR, help=f"output folder (default {DEFAULT_OUT_DIR})")
    args = parser.parse_args(argv)
    serving_file = project_path(args.serving_dir) / SERVING_FILE
    if not serving_file.exists():
        print(f"report: no serving copy at {serving_file}: run scripts/build.sh (or dbt build) first", file=sys.stderr)
        return 1
    page = write_report(serving_file, project_path(args.out))
    print(f"report: wrote {page} and its PNGs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
