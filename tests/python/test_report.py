"""The marketers' report (customer_value.report): rendered from a serving copy, it
shows the mart's numbers, embeds its PNGs and points at nothing outside the file."""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import numpy as np
import pytest

from customer_value import report

PNGS = ["clv_crv_matrix.png", "clv_holdout.png", "clv_model_fit.png", "probability_alive.png"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class Page(HTMLParser):
    """The tables (by id: rows of (row attributes, cell texts)) and the images of a page."""

    def __init__(self, text: str):
        super().__init__()
        self.tables: dict[str, list[tuple[dict, list[str]]]] = {}
        self.images: list[str] = []
        self.ids: set[str] = set()
        self._table: str | None = None
        self._row: tuple[dict, list[str]] | None = None
        self._cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.add(attributes["id"])
        if tag == "table":
            self._table = attributes.get("id", "")
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self._row = (attributes, [])
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "img":
            self.images.append(attributes.get("src", ""))

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row[1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def number(text: str) -> float:
    return float(text.replace(",", "").replace("%", "").strip())


def query(serving_file: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(serving_file), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def rendered(clean_build, tmp_path_factory):
    """The report of the session's clean build, rendered by its command line."""
    _, build = clean_build
    serving_file = build.serving_dir / report.SERVING_FILE
    before = hashlib.sha256(serving_file.read_bytes()).hexdigest()
    out = tmp_path_factory.mktemp("report")
    completed = subprocess.run(
        [sys.executable, "-m", "customer_value.report", "--serving-dir", str(build.serving_dir), "--out", str(out)],
        check=False,
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stderr
    assert hashlib.sha256(serving_file.read_bytes()).hexdigest() == before, "the report changed the serving copy"
    text = (out / "report.html").read_text(encoding="utf-8")
    return {"out": out, "text": text, "page": Page(text), "serving_file": serving_file}


def test_writes_the_page_and_its_pngs(rendered):
    out = rendered["out"]
    assert sorted(path.name for path in out.iterdir()) == [*PNGS, "report.html"]
    for name in PNGS:
        content = (out / name).read_bytes()
        assert content.startswith(PNG_MAGIC) and len(content) > 10_000, name
    # One as_of_date only: no migrations yet, and the page says so.
    assert "no-migrations" in rendered["page"].ids


def test_the_page_is_self_contained(rendered):
    text, page = rendered["text"], rendered["page"]
    without_images = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", text)
    assert not re.search(r"(https?:|ftp:)?//[a-z0-9]", without_images, flags=re.IGNORECASE), "an external URL"
    assert "url(" not in without_images
    assert not re.search(r"<(script|link|iframe|object|embed)\b", text, flags=re.IGNORECASE)
    assert re.findall(r"\b(src|href)\s*=\s*['\"]([^'\"]*)", text) == [("src", src) for src in page.images]
    embedded = [base64.b64decode(src.removeprefix("data:image/png;base64,")) for src in page.images]
    assert all(src.startswith("data:image/png;base64,") for src in page.images)
    files = {(rendered["out"] / name).read_bytes() for name in PNGS}
    assert set(embedded) == files


def test_segment_counts_and_money_equal_the_mart(rendered):
    page, serving_file = rendered["page"], rendered["serving_file"]
    shown = {attributes["data-segment"]: cells for attributes, cells in page.tables["segment-summary"][1:]}
    mart = {
        segment: (customers, revenue, predicted, crv)
        for segment, customers, revenue, predicted, crv in query(
            serving_file,
            """
            select value_segment, count(*), sum(net_revenue_to_date), sum(predicted_clv), sum(crv)
            from marts.customer_segments group by all
            """,
        )
    }
    assert set(shown) == set(mart)
    for segment, (customers, revenue, predicted, crv) in mart.items():
        cells = shown[segment]
        assert int(number(cells[1])) == customers, segment
        assert number(cells[3]) == pytest.approx(float(revenue), abs=0.5), segment
        assert number(cells[5]) == pytest.approx(float(predicted), abs=0.5), segment
        assert number(cells[6]) == pytest.approx(float(crv), abs=0.5), segment
    groups = {
        attributes["data-segment"]: int(number(cells[1])) for attributes, cells in page.tables["group-summary"][1:]
    }
    assert groups == dict(
        query(serving_file, "select segment, customers from marts.segment_summary where segment_kind = 'group'")
    )
    [(customers,)] = query(serving_file, "select count(*) from marts.customer_segments")
    assert page_text_number(rendered["text"], "customer-count") == customers


def page_text_number(text: str, element_id: str) -> int:
    found = re.search(rf"id='{element_id}'>([^<]*)<", text)
    assert found, element_id
    return int(number(found.group(1)))


def test_thresholds_are_the_lowest_values_of_the_high_buyers(rendered):
    [(clv_threshold, crv_threshold)] = query(
        rendered["serving_file"],
        """
        select min(predicted_clv) filter (where is_high_clv), min(crv) filter (where is_high_crv)
        from marts.customer_segments where not is_prospect
        """,
    )
    text = rendered["text"]
    assert f"<strong>high CLV</strong> from {clv_threshold:,.0f} USD" in text
    assert f"<strong>high CRV</strong> from {crv_threshold:,.0f} USD" in text


def test_fit_check_counts_the_marts_customers(rendered):
    rows = rendered["page"].tables["clv-model-fit"][1:]
    serving_file = rendered["serving_file"]
    frequencies = np.array(
        [f for (f,) in query(serving_file, "select frequency from marts.customer_segments where frequency is not null")]
    )
    [(n_customers,)] = query(
        serving_file,
        "select n_customers from marts.clv_model_parameters"
        " where is_used_for_predictions and model_name != 'gamma_gamma' limit 1",
    )
    actual = [int(number(cells[1])) for _, cells in rows]
    expected = [number(cells[2]) for _, cells in rows]
    assert [cells[0] for _, cells in rows] == [str(x) for x in range(7)] + ["7+"]
    assert actual == np.bincount(np.minimum(frequencies, 7), minlength=8).tolist()
    assert sum(actual) == len(frequencies) == n_customers
    assert sum(expected) == pytest.approx(n_customers, abs=0.5)
    # The data are simulated from a BG/NBD: every bar of the chosen model is close to its expectation.
    for got, want in zip(actual, expected):
        assert abs(got - want) < 4 * np.sqrt(want) + 5, (got, want)


def test_model_comparison_equals_the_mart(rendered):
    """The comparison table shows every purchase model's holdout errors as the mart has
    them, and marks the chosen one; the holdout chart and the P(alive) matrix are drawn."""
    rows = rendered["page"].tables["clv-model-comparison"][1:]
    mart = query(
        rendered["serving_file"],
        "select model_label, purchases_rmse, revenue_rmse, is_chosen from marts.clv_model_comparison order by model_name",
    )
    assert [cells[0] for _, cells in rows] == [label for label, *_ in mart]
    for (_, cells), (_, purchases_rmse, revenue_rmse, chosen) in zip(rows, mart):
        assert number(cells[3]) == pytest.approx(purchases_rmse, abs=5e-4)
        assert number(cells[5]) == pytest.approx(revenue_rmse, abs=5e-3)
        assert cells[7].startswith("chosen") == chosen
    assert sum(cells[7].startswith("chosen") for _, cells in rows) == 1


def test_migrations_between_the_last_two_dates(clean_build, tmp_path):
    """A serving copy whose history holds three as_of_dates: the page shows the moves of
    the last pair only, as a table and a PNG."""
    _, build = clean_build
    serving_file = tmp_path / "serving" / report.SERVING_FILE
    serving_file.parent.mkdir()
    with duckdb.connect(str(serving_file)) as con:
        con.execute(f"attach '{build.serving_dir / report.SERVING_FILE}' as built (read_only)")
        con.execute("create schema marts")
        for table in (
            "customer_segments",
            "segment_summary",
            "clv_model_parameters",
            "clv_model_comparison",
            "clv_holdout_by_frequency",
        ):
            con.execute(f"create table marts.{table} as select * from built.marts.{table}")
        con.execute("create table marts.segment_migrations as select * from built.marts.segment_migrations")
        con.execute(
            """
            insert into marts.segment_migrations (from_as_of_date, to_as_of_date, from_segment, to_segment, customers)
            values
                ('2025-12-31', '2026-03-31', 'miser', 'miser', 1000),
                ('2026-03-31', '2026-06-30', 'miser', 'miser', 900),
                ('2026-03-31', '2026-06-30', 'miser', 'champion', 12),
                ('2026-03-31', '2026-06-30', 'new', 'affluent', 30),
                ('2026-03-31', '2026-06-30', 'champion', 'champion', 40)
            """
        )
    out = tmp_path / "report"
    report.write_report(serving_file, out)
    assert (out / "segment_migrations.png").read_bytes().startswith(PNG_MAGIC)
    page = Page((out / "report.html").read_text(encoding="utf-8"))
    rows = page.tables["segment-migrations"]
    header = rows[0][1][1:]
    moves = {
        (attributes["data-from"], to): int(number(cell))
        for attributes, cells in rows[1:]
        for to, cell in zip(header, cells[1:])
        if number(cell)
    }
    assert moves == {
        ("miser", "miser"): 900,
        ("miser", "champion"): 12,
        ("new", "affluent"): 30,
        ("champion", "champion"): 40,
    }
    assert "no-migrations" not in page.ids
    # Rendering again without the history removes the stale PNG.
    report.write_report(build.serving_dir / report.SERVING_FILE, out)
    assert not (out / "segment_migrations.png").exists()
