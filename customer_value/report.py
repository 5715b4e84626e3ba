"""The marketers' report: one self-contained HTML page (and its PNGs) from the serving copy.

``python -m customer_value.report`` (what ``scripts/report.sh`` runs) opens
``SERVING_DIR/customer_value.duckdb`` read-only and writes into ``--out`` (default
``data/report``):

- ``report.html``: everything below, the PNGs embedded (base64), no external URL;
- ``clv_crv_matrix.png``: every customer on the CLV x CRV matrix, log scales, the two
  thresholds as lines, coloured by value segment;
- ``segment_migrations.png``: customers moving between segments from the
  second-to-last to the last recorded as_of_date (only when there are two);
- ``clv_model_fit.png``: the fit check of Fader, Hardie & Lee (2005), Figure 3, for the
  purchase model the predictions use: actual and expected customers per number of repeat
  purchases;
- ``clv_holdout.png``: each purchase model's holdout purchases against the actual ones,
  by calibration frequency (the comparison that chose the model);
- ``probability_alive.png``: the chosen model's P(alive) by frequency and recency.

It reads only the marts (customer_segments, segment_summary, segment_migrations,
clv_model_parameters, clv_model_comparison, clv_holdout_by_frequency); docs/report.md
says what each part shows and how it is computed.
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
from typing import Any

import duckdb
import matplotlib
import numpy as np
import pandas as pd

matplotlib.use("Agg")  # renders to files, no display, no network

import matplotlib.pyplot as plt
import matplotlib.ticker
from matplotlib.colors import LinearSegmentedColormap

from .clv.purchase_models import PURCHASE_MODELS, PurchaseModel
from .clv.tables import fit_from_table

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
    comparison: pd.DataFrame
    holdout: pd.DataFrame
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
    """The marts, read from the serving copy opened read-only."""
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
                    cast(recency_weeks as double) as recency_weeks,
                    cast(t_weeks as double) as t_weeks
                from marts.customer_segments
                """
            ),
            summary=table("select * from marts.segment_summary"),
            migrations=table("select * from marts.segment_migrations"),
            parameters=table("select * from marts.clv_model_parameters"),
            comparison=table("select * from marts.clv_model_comparison order by model_name"),
            holdout=table("select * from marts.clv_holdout_by_frequency order by model_name, calibration_frequency"),
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
    """Actual and expected customers per number of repeat purchases (last: or more), for
    the purchase model the predictions use."""

    model: PurchaseModel
    labels: list[str]
    actual: np.ndarray
    expected: np.ndarray | None
    parameters: dict[str, float]
    n_customers: int
    log_likelihood: float | None
    converged: bool
    message: str
    fit: object | None


def chosen_model(data: ReportData) -> PurchaseModel:
    """The purchase model the predictions use (clv_model_parameters.is_used_for_predictions)."""
    used = data.parameters.loc[data.parameters["is_used_for_predictions"].astype(bool), "model_name"]
    names = [name for name in used.unique() if name in PURCHASE_MODELS]
    return PURCHASE_MODELS[names[0] if names else "bg_nbd"]


def fit_check(data: ReportData) -> FitCheck:
    """The fit check of the chosen purchase model: for the customers it saw (frequency and
    t_weeks known), the actual count per number of repeat purchases (frequency) against
    the expected count, the sum over customers of P(X(T_i) = x) at the fitted parameters
    (the model's expected_repeat_purchase_counts; for BG/NBD the paper's eq. 8)."""
    model = chosen_model(data)
    rows = data.parameters[data.parameters["model_name"] == model.name]
    parameters = {row.parameter_name: row.parameter_value for row in rows.itertuples()}
    first = rows.iloc[0] if not rows.empty else None
    converged = bool(first is not None and first["is_converged"])
    seen = data.customers.dropna(subset=["frequency", "t_weeks"])
    frequency = seen["frequency"].to_numpy(dtype=float)
    actual = np.bincount(np.minimum(frequency, MAX_REPEAT_PURCHASES).astype(int), minlength=MAX_REPEAT_PURCHASES + 1)
    expected = fit = None
    if converged:
        fit = fit_from_table(pa_table(rows), model.name)
        expected = model.expected_repeat_purchase_counts(
            seen["t_weeks"].to_numpy(dtype=float), fit, MAX_REPEAT_PURCHASES
        )
    return FitCheck(
        model=model,
        labels=[str(x) for x in range(MAX_REPEAT_PURCHASES)] + [f"{MAX_REPEAT_PURCHASES}+"],
        actual=actual,
        expected=expected,
        parameters={name: float(value) for name, value in parameters.items() if value is not None},
        n_customers=int(first["n_customers"]) if first is not None else 0,
        log_likelihood=None if first is None or pd.isna(first["log_likelihood"]) else float(first["log_likelihood"]),
        converged=converged,
        message="" if first is None else str(first["fit_message"]),
        fit=fit,
    )


def pa_table(rows: pd.DataFrame):
    """Parameter rows of the mart as the Arrow table customer_value.clv.tables reads."""
    import pyarrow as pa

    columns = [
        "model_name",
        "parameter_name",
        "parameter_value",
        "standard_error",
        "log_likelihood",
        "n_customers",
        "as_of_date",
        "is_converged",
        "fit_message",
    ]
    return pa.Table.from_pandas(rows[columns], preserve_index=False)


@dataclass
class AliveMatrix:
    """The chosen model's P(alive) on a grid of frequency x recency at one T."""

    model_label: str
    frequencies: np.ndarray
    recencies: np.ndarray
    T: float
    values: np.ndarray  # frequencies x recencies; NaN where recency > T


def alive_matrix(data: ReportData, check: FitCheck) -> AliveMatrix | None:
    """P(alive) of a customer with frequency x (rows) and recency t_x (columns) who has been
    a customer for T weeks, the longest observation time in the data (as lifetimes'
    plot_probability_alive_matrix draws it); None when the model was not fitted."""
    if check.fit is None:
        return None
    seen = data.customers.dropna(subset=["frequency", "t_weeks"])
    if seen.empty:
        return None
    T = float(seen["t_weeks"].max())
    max_frequency = int(max(1, min(np.quantile(seen["frequency"], 0.99), 60)))
    frequencies = np.arange(max_frequency + 1, dtype=float)
    recencies = np.linspace(0.0, T, 60)
    x, t_x = np.meshgrid(frequencies, recencies, indexing="ij")
    values = check.model.probability_alive(
        x.ravel(), np.where(x.ravel() > 0, t_x.ravel(), 0.0), np.full(x.size, T), check.fit
    ).reshape(x.shape)
    return AliveMatrix(check.model.label, frequencies, recencies, T, values)


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
    table = last.pivot_table(
        index="from_segment", columns="to_segment", values="customers", aggfunc="sum", fill_value=0
    )

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
            m.clv[chosen],
            m.crv[chosen],
            s=9,
            alpha=0.55,
            linewidths=0,
            color=SEGMENT_COLOURS.get(segment, "#000000"),
            label=f"{labels.get(segment, segment)} ({chosen.sum():,})",
        )
    axes.set_xscale("log")
    axes.set_yscale("log")
    if m.clv_threshold is not None:
        axes.axvline(m.clv_threshold, color="#333333", linestyle="--", linewidth=1.2)
        axes.annotate(
            f"high CLV from {money(m.clv_threshold)}",
            (m.clv_threshold, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(4, -12),
            textcoords="offset points",
            fontsize=8,
            color="#333333",
        )
    if m.crv_threshold is not None:
        axes.axhline(m.crv_threshold, color="#333333", linestyle="--", linewidth=1.2)
        axes.annotate(
            f"high CRV from {money(m.crv_threshold)}",
            (1.0, m.crv_threshold),
            xycoords=("axes fraction", "data"),
            xytext=(-4, 4),
            textcoords="offset points",
            fontsize=8,
            color="#333333",
            ha="right",
        )
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
    legend = axes.legend(
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=8,
        markerscale=2.5,
        frameon=False,
        title="value segment (customers)",
    )
    legend.get_title().set_fontsize(8)
    for handle in legend.legend_handles:
        if handle is not None:
            handle.set_alpha(1)
    return png(figure)


def fit_figure(check: FitCheck) -> bytes:
    figure, axes = plt.subplots(figsize=(8, 4.5))
    positions = np.arange(len(check.labels))
    width = 0.4
    axes.bar(positions - width / 2, check.actual, width, label="actual", color="#0072B2")
    if check.expected is not None:
        axes.bar(positions + width / 2, check.expected, width, label=f"expected ({check.model.label})", color="#E69F00")
    axes.set_xticks(positions, check.labels)
    axes.set_xlabel("repeat purchases (purchase days after the first) up to as_of_date")
    axes.set_ylabel("customers")
    axes.set_title("CLV model fit: customers per number of repeat purchases")
    axes.grid(True, axis="y", color="#eeeeee")
    axes.set_axisbelow(True)
    axes.legend()
    return png(figure)


MODEL_COLOURS = {"bg_nbd": "#E69F00", "mbg_nbd": "#009E73", "pareto_nbd": "#CC79A7"}


def holdout_figure(holdout: pd.DataFrame) -> bytes:
    """Mean holdout purchases by calibration frequency: the actual ones and each model's."""
    figure, axes = plt.subplots(figsize=(8, 4.5))
    first = holdout[holdout["model_name"] == holdout["model_name"].iloc[0]]
    labels = [
        f"{int(f)}+" if last else str(int(f)) for f, last in zip(first["calibration_frequency"], first["is_last_group"])
    ]
    positions = np.arange(len(labels))
    axes.plot(positions, first["actual_mean_holdout_purchases"], "o-", color="#222222", linewidth=2.5, label="actual")
    for name, rows in holdout.groupby("model_name", sort=True):
        chosen = bool(rows["is_chosen"].iloc[0])
        axes.plot(
            positions,
            rows["predicted_mean_holdout_purchases"],
            "s--" if not chosen else "s-",
            color=MODEL_COLOURS.get(name, "#0072B2"),
            linewidth=2 if chosen else 1.2,
            label=f"{rows['model_label'].iloc[0]}{' (chosen)' if chosen else ''}",
        )
    axes.set_xticks(positions, labels)
    axes.set_xlabel("repeat purchases in the calibration period")
    axes.set_ylabel("mean purchase days in the holdout")
    axes.set_title("Purchase models: holdout purchases, predicted and actual")
    axes.grid(True, color="#eeeeee")
    axes.set_axisbelow(True)
    axes.legend()
    return png(figure)


def alive_figure(alive: AliveMatrix) -> bytes:
    figure, axes = plt.subplots(figsize=(8, 5.5))
    values = np.ma.masked_invalid(alive.values)
    image_ = axes.imshow(
        values,
        origin="lower",
        aspect="auto",
        cmap="RdYlGn",
        vmin=0,
        vmax=1,
        extent=(alive.recencies[0], alive.recencies[-1], -0.5, alive.frequencies[-1] + 0.5),
    )
    figure.colorbar(image_, ax=axes, label="P(alive)")
    axes.set_xlabel(f"recency: weeks from the first to the last purchase (customer for {alive.T:.0f} weeks)")
    axes.set_ylabel("frequency: repeat purchase days (a one-time buyer's recency is 0)")
    axes.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    axes.set_title(f"{alive.model_label}: probability that a customer is still alive")
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
                axes.text(
                    j,
                    i,
                    f"{int(values[i, j]):,}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if dark else "black",
                )
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
tr.chosen td { background: #eef7f1; }
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
            if with_swatch
            else ""
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


def comparison_table(comparison: pd.DataFrame, currency: str) -> str:
    def number(value: Any, pattern: str) -> str:  # a cell of the comparison frame
        return "–" if value is None or pd.isna(value) else format(float(value), pattern)

    chosen_class = " class='chosen'"
    rows = "".join(
        f"<tr{chosen_class if row.is_chosen else ''}><td>{esc(row.model_label)}</td>"
        f"<td class='number'>{number(row.predicted_holdout_purchases, ',.0f')}</td>"
        f"<td class='number'>{number(row.purchases_error_share, '+.1%')}</td>"
        f"<td class='number'>{number(row.purchases_rmse, '.3f')}</td>"
        f"<td class='number'>{number(row.revenue_error_share, '+.1%')}</td>"
        f"<td class='number'>{number(row.revenue_rmse, ',.2f')}</td>"
        f"<td class='number'>{number(row.selection_score, '.3f')}</td>"
        f"<td>{'<strong>chosen</strong>: ' if row.is_chosen else ''}{esc(row.selection_reason)}</td></tr>"
        for row in comparison.itertuples()
    )
    return (
        "<table id='clv-model-comparison'><thead><tr><th>model</th><th class='number'>holdout purchases expected</th>"
        "<th class='number'>error of the total</th><th class='number'>root mean square error per customer</th>"
        f"<th class='number'>revenue: error of the total</th><th class='number'>revenue: root mean square error ({esc(currency)})</th>"
        f"<th class='number'>selection score</th><th>decision</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def render(
    data: ReportData,
    images: dict[str, bytes],
    m: Matrix,
    check: FitCheck,
    moves: Migrations | None,
) -> str:
    currency = data.currency
    customers = data.customers
    buyers = int((~customers["is_prospect"].astype(bool)).sum())
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
        (
            f"<p class='meta'>As of <strong id='as-of-date'>{esc(data.as_of_date)}</strong>: "
            f"<span id='customer-count'>{len(customers):,}</span> customers, {buyers:,} of whom have bought. "
            f"Money in {esc(currency)}. From the serving copy <code>{esc(data.serving_file.name)}</code>, "
            f"rendered {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC.</p>"
        ),
        "<h2>Who is worth what: CLV x CRV</h2>",
        (
            f"<p>Each point is a customer: across, the {esc(measure)} (what they are expected to buy, "
            "discounted, over the CLV horizon); up, the customer referral value (what the customers they "
            "bring in are worth). The dashed lines are the thresholds of the segments: "
            f"<strong>high CLV</strong> from {money(m.clv_threshold, currency)} (the lowest {esc(measure)} among "
            "buyers marked high CLV, the top quarter by default), "
            f"<strong>high CRV</strong> from {money(m.crv_threshold, currency)} (the lowest CRV among buyers marked "
            "high CRV). High CRV also needs evidence from the customer's own referral record, so a point above the "
            "CRV line can still be a low-CRV segment; prospects (never bought) are outside the two-by-two.</p>"
        ),
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
            (
                f"<p>Customers by their segment on {esc(moves.from_date)} (rows) and on {esc(moves.to_date)} "
                "(columns): the diagonal stayed, <em>new</em> customers were not known at the earlier date.</p>"
            ),
            image(images["segment_migrations"], "customers moving between segments"),
            migrations_table(moves),
        ]
    parts.append("<h2>Which purchase model?</h2>")
    comparison = data.comparison
    if comparison.empty:
        parts.append("<p id='no-model-comparison'>No purchase model comparison in this build.</p>")
    else:
        first = comparison.iloc[0]
        parts += [
            (
                "<p>Three stories of how customers stop buying: BG/NBD (right after a repeat purchase), MBG/NBD "
                "(also right after the first one) and Pareto/NBD (at any moment). Each was fitted on the purchases up "
                f"to {esc(first['calibration_ends_on'])} ({int(first['calibration_customers']):,} customers) and asked "
                f"how often each customer would buy in the {float(first['holdout_weeks']):.0f} weeks after, up to "
                f"{esc(first['as_of_date'])}; the model with the smallest errors on purchases and revenue predicts "
                "(unless the var clv_purchase_model names one).</p>"
            ),
            comparison_table(comparison, data.currency),
        ]
        if "clv_holdout" in images:
            parts += [
                (
                    "<p>Customers grouped by their repeat purchases in the calibration period: the mean purchases they "
                    "made in the holdout (black) and what each model expected. A line close to the black one predicts "
                    "well for that kind of customer.</p>"
                ),
                image(images["clv_holdout"], "holdout purchases by calibration frequency, actual and per model"),
            ]
    parts.append("<h2>Does the CLV model fit?</h2>")
    label = check.model.label
    if check.expected is None:
        parts.append(f"<p id='model-not-fitted'>The {esc(label)} model was not fitted: {esc(check.message)}.</p>")
    else:
        names = ", ".join(f"{name} = {value:.4g}" for name, value in check.parameters.items())
        parts += [
            (
                "<p>The check of Fader, Hardie and Lee (2005, Figure 3): for the customers the purchase model "
                "saw, how many made 0, 1, 2, ... repeat purchases up to as_of_date, against how many the fitted "
                f"{esc(label)} model expects, given how long each of them has been a customer. Bars of similar height "
                "mean the model describes the purchase counts well, and its predicted CLV can be trusted as a "
                "ranking.</p>"
            ),
            image(images["clv_model_fit"], "actual and expected customers per number of repeat purchases"),
            fit_table(check),
            (
                f"<p class='note'>{esc(label)} fitted on {check.n_customers:,} customers: {esc(names)} "
                f"(time in weeks); log-likelihood {check.log_likelihood:,.1f}; {esc(check.message)}.</p>"
            ),
        ]
    if "probability_alive" in images:
        parts += [
            "<h2>Who is still a customer?</h2>",
            (
                f"<p>The probability that a customer is still alive under {esc(label)}, for a customer of the "
                "longest standing in the data, by how many repeat purchases they made (up) and when the last one was "
                "(across: weeks after the first purchase). Frequent buyers who stopped long ago (top left) have most "
                "likely left; the likely departed are never asked to buy more.</p>"
            ),
            image(images["probability_alive"], "probability alive by frequency and recency"),
        ]
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(serving_file: Path, out_dir: Path) -> Path:
    """Renders the report from `serving_file` into `out_dir`; returns the HTML's path."""
    data = load(serving_file)
    m = matrix(data)
    check = fit_check(data)
    moves = last_migrations(data)
    alive = alive_matrix(data, check)
    labels = dict(zip(data.customers["value_segment"], data.customers["value_segment_label"]))
    images = {"clv_crv_matrix": matrix_figure(m, labels, data.currency), "clv_model_fit": fit_figure(check)}
    if not data.holdout.empty:
        images["clv_holdout"] = holdout_figure(data.holdout)
    if alive is not None:
        images["probability_alive"] = alive_figure(alive)
    if moves is not None:
        images["segment_migrations"] = migrations_figure(moves)
    out_dir.mkdir(parents=True, exist_ok=True)
    for optional in ("segment_migrations", "clv_holdout", "probability_alive"):
        stale = out_dir / f"{optional}.png"
        if optional not in images and stale.exists():
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
        "--serving-dir",
        default=os.environ.get("SERVING_DIR") or DEFAULT_SERVING_DIR,
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
