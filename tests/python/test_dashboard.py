"""The Superset dashboard, opened in a real browser, shows the mart's segments.

Sets up Superset (customer_value.dashboard: .venv-superset/, installed on first use)
with a fresh metadata database on the session's clean build's serving copy, defines
the dashboard through the REST API, opens it in Debian's chromium-headless-shell driven
by playwright (dashboard_browser.py, run in .venv-superset), and compares the segment
names and counts on the page with SQL on the serving copy.

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
        objects = {
            resource: [
                item.get("slice_name")
                or item.get("table_name")
                or item.get("dashboard_title")
                or item.get("database_name")
                for item in dashboard.Api(superset).call("GET", f"{resource}/", params={"q": "(page_size:100)"})[
                    "result"
                ]
            ]
            for resource in ("database", "dataset", "chart", "dashboard")
        }
    finally:
        dashboard.stop(process)
    return {"shown": shown, "serving_file": serving_file, "screenshot": screenshot, "objects": objects}


def query(serving_file: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(serving_file), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_the_summary_table_shows_every_segment_with_the_marts_customers(page):
    shown = page["shown"]
    headers = shown["headers"]
    assert headers[: len(dashboard.SUMMARY_COLUMNS)] == dashboard.SUMMARY_COLUMNS
    kind, segment, customers = (headers.index(name) for name in ("segment_kind", "segment", "customers"))
    on_page = {(row[kind], row[segment]): int(row[customers].replace(",", "")) for row in shown["rows"]}
    summary = {
        (row_kind, row_segment): count
        for row_kind, row_segment, count in query(
            page["serving_file"], "select segment_kind, segment, customers from marts.segment_summary"
        )
    }
    assert on_page == summary
    mart = dict(query(page["serving_file"], "select value_segment, count(*) from marts.customer_segments group by all"))
    assert {seg: n for (k, seg), n in on_page.items() if k == "value_segment"} == mart


def test_the_bar_chart_got_the_customers_per_value_segment(page):
    mart = dict(query(page["serving_file"], "select value_segment, count(*) from marts.customer_segments group by all"))
    bars = [chart for chart in page["shown"]["chart_data"] if chart["colnames"] == ["value_segment", "customers"]]
    assert len(bars) == 1, page["shown"]["chart_data"]
    assert {row["value_segment"]: row["customers"] for row in bars[0]["data"]} == mart


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
    assert sorted(objects["dataset"]) == ["customer_segments", "segment_summary"]
    assert sorted(objects["chart"]) == sorted([dashboard.CHART_CUSTOMERS, dashboard.CHART_SUMMARY])
    assert objects["dashboard"] == [dashboard.DASHBOARD_TITLE]
