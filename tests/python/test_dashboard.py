"""The Superset dashboard, opened in a real browser, shows the mart's segments.

Sets up Superset (customer_value.dashboard: .venv-superset/, installed on first use)
with a fresh metadata database on the session's clean build's serving copy, defines
the dashboard through the REST API, opens it in Debian's chromium-headless-shell driven
by playwright (dashboard_browser.py, run in .venv-superset), and compares what the page
shows (the headline figures, the value segments in the two-by-two's order with their
shares of customers and of value, the groups apart, the column names, the title) with
SQL on the serving copy.

It needs the browser (`apt-get install chromium-headless-shell`, or CHROMIUM=/path to
another Chromium binary). RUN_DASHBOARD_TEST=1 requires it (CI sets it: .ci/run);
without the variable the test runs when the browser is there and is skipped otherwise;
RUN_DASHBOARD_TEST=0 skips it. About 1.5 minutes on a warm machine, 3 with Superset's
first install into .venv-superset/ (docs/dashboard.md). The screenshot is kept in
target/dashboard-test.png.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from operator import itemgetter
from pathlib import Path

import duckdb
import pytest
from dbt_helpers import PROJECT_DIR

from customer_value import dashboard

BROWSER_SCRIPT = Path(__file__).with_name("dashboard_browser.py")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium-headless-shell")
RUN = os.environ.get("RUN_DASHBOARD_TEST", "")

pytestmark = pytest.mark.skipif(
    RUN == "0" or (RUN != "1" and not Path(CHROMIUM).exists()),
    reason=f"RUN_DASHBOARD_TEST=0, or no browser at {CHROMIUM} (apt-get install chromium-headless-shell)",
)
SCREENSHOT = PROJECT_DIR / "target" / "dashboard-test.png"


@pytest.fixture(scope="module")
def page(clean_build, tmp_path_factory) -> dict:
    """What the dashboard page shows, and the serving copy it read."""
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} not found: apt-get install chromium-headless-shell"
    _, build = clean_build
    serving_file = build.serving_dir / dashboard.SERVING_FILE
    superset = dashboard.Superset(
        home=tmp_path_factory.mktemp("superset"), port=dashboard.free_port(), username="admin", password="test-admin"
    )
    bin_dir = dashboard.ensure_venv()
    superset.initialise(bin_dir)
    process = superset.start(bin_dir)
    try:
        dashboard.define_dashboard(dashboard.Api(superset), serving_file)
        # Defining it twice updates what exists instead of adding copies.
        dashboard.define_dashboard(dashboard.Api(superset), serving_file)
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        screenshot = tmp_path_factory.mktemp("screenshot") / "dashboard.png"
        completed = subprocess.run(
            [
                str(bin_dir / "python"),
                str(BROWSER_SCRIPT),
                superset.url,
                f"/superset/dashboard/{dashboard.DASHBOARD_SLUG}/",
                superset.username,
                superset.password,
                str(screenshot),
                CHROMIUM,
            ],
            check=False,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert completed.returncode == 0, completed.stderr[-5000:]
        shutil.copyfile(screenshot, SCREENSHOT)
        shown = json.loads(completed.stdout)
        api = dashboard.Api(superset)
        objects = {
            resource: [
                item.get("slice_name")
                or item.get("table_name")
                or item.get("dashboard_title")
                or item.get("database_name")
                for item in api.call("GET", f"{resource}/", params={"q": "(page_size:100)"})["result"]
            ]
            for resource in ("database", "dataset", "chart", "dashboard")
        }
        chart_ids = {
            item["slice_name"]: item["id"]
            for item in api.call("GET", "chart/", params={"q": "(page_size:100)"})["result"]
        }
    finally:
        dashboard.stop(process)
    return {
        "shown": shown,
        "serving_file": serving_file,
        "screenshot": screenshot,
        "objects": objects,
        "chart_ids": chart_ids,
    }


def query(serving_file: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(serving_file), read_only=True) as con:
        return con.execute(sql).fetchall()


def currency(serving_file: Path) -> str:
    return query(serving_file, "select any_value(reporting_currency) from marts.customer_segments")[0][0]


def shown_chart(page, title: str) -> dict:
    charts = [chart for chart in page["shown"]["charts"] if chart["title"] == title]
    assert len(charts) == 1, [chart["title"] for chart in page["shown"]["charts"]]
    return charts[0]


def fetched(page, name: str) -> list[dict]:
    """The rows the chart `name` fetched for the page."""
    answers = [chart["data"] for chart in page["shown"]["chart_data"] if chart["slice_id"] == page["chart_ids"][name]]
    assert len(answers) == 1, (name, [(chart["slice_id"], chart["colnames"]) for chart in page["shown"]["chart_data"]])
    return answers[0]


def number(text: str) -> float:
    return float(text.replace(",", ""))


def test_the_full_title_and_the_introduction_are_shown(page):
    shown = page["shown"]
    assert shown["title"] == {"text": dashboard.DASHBOARD_TITLE, "cut": False}
    (intro,) = shown["markdown"]
    assert f"Money in {currency(page['serving_file'])}" in intro
    assert "they overlap" in intro


def test_the_headline_figures_are_the_marts_totals(page):
    serving_file = page["serving_file"]
    unit = currency(serving_file)
    customers, revenue, clv, crv, as_of_date = query(
        serving_file,
        """
        select count(*), sum(net_revenue_to_date), sum(predicted_clv), sum(crv), max(as_of_date)
        from marts.customer_segments""",
    )[0]
    expected = {
        dashboard.CHART_CUSTOMERS: customers,
        f"{dashboard.CHART_REVENUE} ({unit})": revenue,
        f"{dashboard.CHART_PREDICTED_CLV} ({unit})": clv,
        f"{dashboard.CHART_CRV} ({unit})": crv,
    }
    titles = [chart["title"] for chart in page["shown"]["charts"]]
    assert titles[:5] == [*expected, dashboard.CHART_AS_OF], "the headline figures come first, in this order"
    for title, total in expected.items():
        (row,) = fetched(page, title)
        assert row[title] == pytest.approx(float(total), abs=0.01), title
        # On the page: whole numbers with thousands separators.
        assert number(shown_chart(page, title)["big_number"]) == pytest.approx(float(total), abs=0.5), title
    assert shown_chart(page, dashboard.CHART_AS_OF)["big_number"] == as_of_date.isoformat()
    assert shown_chart(page, dashboard.CHART_CUSTOMERS)["big_number"] == f"{customers:,}"


def segment_rows(serving_file: Path, kind: str, order: str) -> list[tuple]:
    return query(
        serving_file,
        f"""
        select segment, segment_label, customers, customer_share, net_revenue_share, predicted_clv_share,
            crv_share, net_revenue_to_date, predicted_clv, crv
        from marts.segment_summary where segment_kind = '{kind}' order by {order}""",
    )


def test_the_value_segments_are_in_the_two_by_twos_order_with_their_share_of_value(page):
    serving_file = page["serving_file"]
    unit = currency(serving_file)
    place = {segment: number for number, segment in enumerate(dashboard.segment_order())}
    assert list(place)[:4] == ["champion", "affluent", "advocate", "miser"]
    mart = sorted(segment_rows(serving_file, "value_segment", "segment"), key=lambda row: place[row[0]])
    table = shown_chart(page, dashboard.CHART_SEGMENTS)
    assert table["headers"] == [
        "Segment",
        "Customers",
        "Share of customers",
        f"Net revenue to date ({unit})",
        "Share of net revenue",
        f"Predicted CLV ({unit})",
        "Share of predicted CLV",
        f"CRV ({unit})",
        "Share of CRV",
        "Recommended action",
    ]
    assert [row[0] for row in table["rows"]] == [row[1] for row in mart]
    for shown_row, (_, label, customers, *shares_and_money) in zip(table["rows"], mart):
        customer_share, revenue_share, clv_share, crv_share, revenue, clv, crv = shares_and_money
        assert number(shown_row[1]) == customers, label
        # Shares as percentages with one decimal, money in whole units (rounded by the browser).
        for text, share in zip(
            itemgetter(2, 4, 6, 8)(shown_row), (customer_share, revenue_share, clv_share, crv_share)
        ):
            assert text.endswith("%") and number(text[:-1]) == pytest.approx((share or 0) * 100, abs=0.051), label
        for text, money in zip(itemgetter(3, 5, 7)(shown_row), (revenue, clv, crv)):
            assert number(text) == pytest.approx(float(money or 0), abs=0.51), label
    # They add up to every customer; the shares of value, to 1.
    assert sum(row[2] for row in mart) == query(serving_file, "select count(*) from marts.customer_segments")[0][0]
    assert sum(row[5] for row in mart) == pytest.approx(1)

    bars = fetched(page, dashboard.CHART_SHARES)
    assert [row["segment_label"] for row in bars] == [row[1] for row in mart]
    for row, (_, _, _, customer_share, revenue_share, clv_share, crv_share, *_) in zip(bars, mart):
        assert row["Share of customers"] == pytest.approx(customer_share)
        assert row["Share of net revenue"] == pytest.approx(revenue_share or 0)
        assert row["Share of predicted CLV"] == pytest.approx(clv_share or 0)
        assert row["Share of referral value (CRV)"] == pytest.approx(crv_share or 0)
    assert shown_chart(page, dashboard.CHART_SHARES)["has_canvas"]


def test_the_overlapping_groups_are_apart_from_the_segments(page):
    serving_file = page["serving_file"]
    mart = segment_rows(serving_file, "group", "customers desc, segment_label")
    table = shown_chart(page, dashboard.CHART_GROUPS)
    assert table["headers"][:2] == ["Segment", "Customers"]
    assert [(row[0], number(row[1])) for row in table["rows"]] == [(row[1], row[2]) for row in mart]
    segments = {row[1] for row in segment_rows(serving_file, "value_segment", "segment")}
    assert not segments & {row[0] for row in table["rows"]}
    headers = page["shown"]["section_headers"]
    assert len(headers) == 2 and "add up" in headers[0] and "overlapping" in headers[1]


def test_the_page_loads_nothing_from_outside_and_raises_no_error(page):
    """Superset's front end asks for a telemetry pixel (scarf.sh); the content security
    policy customer_value.dashboard configures blocks it, and anything else outside."""
    shown = page["shown"]
    assert shown["external_answered"] == []
    assert set(shown["external_failed"]) == set(shown["external_requests"])
    assert all("csp" in why.lower() for why in shown["external_failed"].values()), shown["external_failed"]
    assert shown["errors"] == []
    assert page["screenshot"].stat().st_size > 20_000


def test_defining_it_again_adds_no_copies(page):
    objects = page["objects"]
    assert objects["database"] == [dashboard.DATABASE_NAME]
    assert sorted(objects["dataset"]) == sorted(dashboard.DATASETS)
    assert len(objects["chart"]) == len(set(objects["chart"])) == 8
    assert dashboard.CHART_GROUPS in objects["chart"]
    assert objects["dashboard"] == [dashboard.DASHBOARD_TITLE]
