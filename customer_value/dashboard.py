"""The segments dashboard in Apache Superset, defined as code.

``python -m customer_value.dashboard serve`` (what ``scripts/dashboard.sh`` runs):

1. creates ``.venv-superset/`` with the exact pins of ``requirements-superset.txt``
   (Superset 6.1.0, duckdb-engine; skipped when already done);
2. initialises Superset's own metadata database in ``SUPERSET_HOME`` (default
   ``data/superset``; skipped when already done) with an admin user;
3. starts Superset (gunicorn) on 127.0.0.1:``SUPERSET_PORT`` (default 8088);
4. defines, through Superset's REST API, the database ``customer_value`` (the serving
   copy ``SERVING_DIR/customer_value.duckdb``, opened read-only), the datasets
   ``marts.customer_segments`` and ``marts.segment_summary`` (and
   ``segment_summary_ordered``, with the two-by-two's order), the charts (headline
   figures, value segments with their shares of customers and of value, the overlapping
   groups) and the dashboard ``segments`` (updated in place when they exist, so running
   it again after changing this file redefines them);
5. keeps serving until Ctrl-C (``setup`` stops instead, once the dashboard is defined).

Runs with the project's Python (it needs only ``requests``); Superset runs in its own
virtual environment because its pins (SQLAlchemy 1.4, pandas 2.1, numpy 1.26) clash with
the project's.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

PROJECT_DIR = Path(__file__).resolve().parents[1]
VENV = PROJECT_DIR / ".venv-superset"
REQUIREMENTS = PROJECT_DIR / "requirements-superset.txt"
DEFAULT_HOME = "data/superset"
DEFAULT_SERVING_DIR = "data/serving"
DEFAULT_PORT = 8088
SERVING_FILE = "customer_value.duckdb"

DATABASE_NAME = "customer_value"
DASHBOARD_SLUG = "segments"
DASHBOARD_TITLE = "Customer value segments"
SEGMENTS_SEED = PROJECT_DIR / "seeds" / "value_segments.csv"
# segment_summary with each value segment's place in the two-by-two (seed value_segments'
# sort_order; the serving copy holds the marts only, so the order is written into the SQL).
ORDERED_SUMMARY = "segment_summary_ordered"
DATASETS = ("customer_segments", "segment_summary", ORDERED_SUMMARY)

CHART_CUSTOMERS = "Customers"
CHART_REVENUE = "Net revenue to date"
CHART_PREDICTED_CLV = "Predicted CLV"
CHART_CRV = "CRV"
CHART_AS_OF = "Data as of"
CHART_SEGMENTS = "Value segments: customers and value"
CHART_SHARES = "Share of customers and of value by segment"
CHART_GROUPS = "Groups (overlapping)"
# Charts earlier versions defined; removed when the dashboard is defined again.
RETIRED_CHARTS = ("Customers by value segment", "Segment summary")

SEGMENT_COLUMNS = [
    "segment_label",
    "customers",
    "customer_share",
    "net_revenue_to_date",
    "net_revenue_share",
    "predicted_clv",
    "predicted_clv_share",
    "crv",
    "crv_share",
    "recommended_action_text",
]
GROUP_COLUMNS = [
    "segment_label",
    "customers",
    "customer_share",
    "net_revenue_to_date",
    "predicted_clv",
    "mean_predicted_clv",
    "crv",
    "recommended_action_text",
]
# Column headings for a marketing manager; {currency} is the serving copy's reporting currency.
COLUMN_LABELS = {
    "as_of_date": "Data as of",
    "segment_kind": "Kind",
    "segment": "Segment code",
    "segment_label": "Segment",
    "segment_order": "Place in the two-by-two",
    "customers": "Customers",
    "customer_share": "Share of customers",
    "net_revenue_to_date": "Net revenue to date ({currency})",
    "net_revenue_share": "Share of net revenue",
    "historical_clv": "Historical CLV ({currency})",
    "mean_historical_clv": "Mean historical CLV ({currency})",
    "historical_clv_share": "Share of historical CLV",
    "predicted_clv": "Predicted CLV ({currency})",
    "mean_predicted_clv": "Mean predicted CLV ({currency})",
    "predicted_clv_share": "Share of predicted CLV",
    "crv": "CRV ({currency})",
    "mean_crv": "Mean CRV ({currency})",
    "crv_share": "Share of CRV",
    "recommended_action": "Action code",
    "recommended_action_text": "Recommended action",
    "built_at": "Built at",
}


def log(message: str) -> None:
    print(f"dashboard: {message}", flush=True)


def project_path(value: str) -> Path:
    """A path from the environment; a relative one is taken from the project folder."""
    path = Path(value)
    return path if path.is_absolute() else PROJECT_DIR / path


# --- Superset's virtual environment and metadata database ----------------------------


def requirements_hash() -> str:
    return hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()


def ensure_venv(python: str | None = None) -> Path:
    """.venv-superset with the pinned requirements; returns its bin folder."""
    stamp = VENV / ".installed"
    wanted = requirements_hash()
    if stamp.exists() and stamp.read_text() == wanted:
        return VENV / "bin"
    python = python or os.environ.get("PYTHON") or sys.executable
    started = time.monotonic()
    log(f"installing Superset into {VENV} (pinned in {REQUIREMENTS.name}; about a minute)")
    if not (VENV / "bin" / "python").exists():
        subprocess.run([python, "-m", "venv", str(VENV)], check=True)
    subprocess.run(
        [
            str(VENV / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
            str(REQUIREMENTS),
        ],
        check=True,
    )
    stamp.write_text(wanted)
    log(f"installed in {time.monotonic() - started:.0f} s")
    return VENV / "bin"


CONTENT_SECURITY_POLICY = {
    "content_security_policy": {
        "base-uri": ["'self'"],
        "default-src": ["'self'"],
        "img-src": ["'self'", "blob:", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": "'none'",
        "style-src": ["'self'", "'unsafe-inline'"],
        "font-src": ["'self'", "data:"],
        "script-src": ["'self'", "'strict-dynamic'"],
    },
    "content_security_policy_nonce_in": ["script-src"],
    "force_https": False,
    "session_cookie_secure": False,
}


@dataclass
class Superset:
    """One Superset installation: its home folder, port and admin login."""

    home: Path
    port: int
    username: str
    password: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def dashboard_url(self) -> str:
        return f"{self.url}/superset/dashboard/{DASHBOARD_SLUG}/"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "SUPERSET_HOME": str(self.home),
            "SUPERSET_CONFIG_PATH": str(self.home / "superset_config.py"),
            "FLASK_APP": "superset",
            "PYTHONPATH": "",
        }

    def write_config(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        key_file = self.home / "secret_key"
        if not key_file.exists():
            key_file.write_text(secrets.token_urlsafe(42))
            key_file.chmod(0o600)
        (self.home / "superset_config.py").write_text(
            "# Written by customer_value.dashboard; edits are overwritten.\n"
            f"SECRET_KEY = open({str(key_file)!r}).read().strip()\n"
            f"SQLALCHEMY_DATABASE_URI = {'sqlite:///' + str(self.home / 'superset.db')!r}\n"
            "PREVENT_UNSAFE_DB_CONNECTIONS = True\n"
            "# The page loads nothing from outside this server: Superset's default policy\n"
            "# also allows a telemetry pixel (scarf.sh), map tiles and web fonts.\n"
            f"TALISMAN_ENABLED = True\nTALISMAN_CONFIG = {CONTENT_SECURITY_POLICY!r}\n"
        )

    def superset(self, bin_dir: Path, *args: str) -> subprocess.CompletedProcess:
        completed = subprocess.run(
            [str(bin_dir / "superset"), *args],
            check=False,
            env=self.env(),
            cwd=self.home,
            capture_output=True,
            text=True,
        )
        if completed.returncode != 0:
            raise RuntimeError(
                f"superset {' '.join(args)} failed:\n{completed.stdout[-3000:]}{completed.stderr[-3000:]}"
            )
        return completed

    def initialise(self, bin_dir: Path) -> None:
        """Superset's metadata database, roles and the admin user (once per home)."""
        self.write_config()
        stamp = self.home / ".initialised"
        wanted = f"{requirements_hash()} {self.username}"
        if stamp.exists() and stamp.read_text() == wanted:
            return
        started = time.monotonic()
        log(f"initialising Superset in {self.home}")
        self.superset(bin_dir, "db", "upgrade")
        created = self.superset(
            bin_dir,
            "fab",
            "create-admin",
            "--username",
            self.username,
            "--password",
            self.password,
            "--firstname",
            "Customer",
            "--lastname",
            "Value",
            "--email",
            f"{self.username}@localhost.invalid",
        )
        if "already exists" in created.stdout + created.stderr:
            self.superset(bin_dir, "fab", "reset-password", "--username", self.username, "--password", self.password)
        self.superset(bin_dir, "init")
        stamp.write_text(wanted)
        log(f"initialised in {time.monotonic() - started:.0f} s")

    def start(self, bin_dir: Path, timeout: float = 180) -> subprocess.Popen:
        """Starts the web server and waits until it answers /health."""
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                raise RuntimeError(f"port {self.port} is in use; choose another with --port or SUPERSET_PORT")
        server_log = (self.home / "server.log").open("ab")
        process = subprocess.Popen(
            [
                str(bin_dir / "gunicorn"),
                "--workers",
                "1",
                "--threads",
                "8",
                "--timeout",
                "120",
                "--bind",
                f"127.0.0.1:{self.port}",
                "superset.app:create_app()",
            ],
            env=self.env(),
            cwd=self.home,
            stdout=server_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    raise RuntimeError(
                        f"Superset stopped at start (exit {process.returncode}); see {self.home / 'server.log'}"
                    )
                try:
                    if requests.get(f"{self.url}/health", timeout=10).ok:
                        return process
                except requests.RequestException:
                    pass
                time.sleep(0.5)
            raise RuntimeError(
                f"Superset did not answer on {self.url} within {timeout:.0f} s; see {self.home / 'server.log'}"
            )
        except BaseException:
            stop(process)
            raise


def stop(process: subprocess.Popen) -> None:
    """Stops the server started by Superset.start (its whole process group)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- the REST API --------------------------------------------------------------------


class Api:
    """Superset's REST API as the admin user (JWT plus the CSRF token)."""

    def __init__(self, superset: Superset):
        self.base = superset.url
        self.session = requests.Session()
        login = self.session.post(
            f"{self.base}/api/v1/security/login",
            json={"username": superset.username, "password": superset.password, "provider": "db", "refresh": True},
            timeout=60,
        )
        login.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        self.session.headers["Referer"] = self.base
        self.session.headers["X-CSRFToken"] = self.call("GET", "security/csrf_token/")["result"]

    def call(self, method: str, path: str, **kwargs) -> dict:
        response = self.session.request(method, f"{self.base}/api/v1/{path}", timeout=120, **kwargs)
        if not response.ok:
            raise RuntimeError(f"{method} /api/v1/{path}: {response.status_code} {response.text[:2000]}")
        return response.json() if response.content else {}

    def find(self, resource: str, **match) -> dict | None:
        """The first object of `resource` whose fields equal `match`, or None."""
        page = 0
        while True:
            found = self.call("GET", f"{resource}/", params={"q": f"(page:{page},page_size:100)"})
            for item in found["result"]:
                if all(item.get(key) == value for key, value in match.items()):
                    return item
            if (page + 1) * 100 >= found["count"]:
                return None
            page += 1

    def upsert(self, resource: str, match: dict, body: dict) -> int:
        """Updates the object matching `match` with `body`, or creates it; returns its id."""
        existing = self.find(resource, **match)
        if existing:
            self.call("PUT", f"{resource}/{existing['id']}", json=body)
            return existing["id"]
        return self.call("POST", f"{resource}/", json=body)["id"]


# --- the dashboard, as code ----------------------------------------------------------


def segment_order() -> list[str]:
    """The value segments in the two-by-two's order (seed value_segments' sort_order)."""
    with SEGMENTS_SEED.open(newline="") as seed:
        rows = list(csv.DictReader(seed))
    return [row["value_segment"] for row in sorted(rows, key=lambda row: int(row["sort_order"]))]


def sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def ordered_summary_sql() -> str:
    """segment_summary with segment_order: the value segment's place in the two-by-two
    (1 champion, 2 affluent, 3 advocate, 4 miser, then the fallbacks and prospects); NULL
    for the groups."""
    cases = " ".join(f"when {sql_text(segment)} then {place}" for place, segment in enumerate(segment_order(), start=1))
    return (
        "select\n    *,\n"
        f"    case when segment_kind = 'value_segment' then case segment {cases} end end as segment_order\n"
        "from marts.segment_summary"
    )


def label(column: str, currency: str) -> str:
    return COLUMN_LABELS.get(column, column).format(currency=currency)


def sql_metric(expression: str, name: str) -> dict:
    return {"expressionType": "SQL", "sqlExpression": expression, "label": name, "hasCustomLabel": True}


def kind_filter(kind: str) -> dict:
    return {
        "expressionType": "SIMPLE",
        "clause": "WHERE",
        "subject": "segment_kind",
        "operator": "==",
        "comparator": kind,
    }


def big_number_params(dataset_id: int, expression: str, name: str, subtitle: str, number_format: str) -> dict:
    """One headline figure over all customers of customer_segments."""
    return {
        "viz_type": "big_number_total",
        "datasource": f"{dataset_id}__table",
        "metric": sql_metric(expression, name),
        "adhoc_filters": [],
        "subtitle": subtitle,
        "header_font_size": 0.3,
        "subtitle_font_size": 0.15,
        "y_axis_format": number_format,
        "time_format": "%Y-%m-%d",
    }


def headline_charts(dataset_id: int, currency: str) -> list[tuple[str, str, dict]]:
    """(name, viz_type, params) of the headline figures: customers, revenue, predicted CLV,
    CRV and the date the data is as of."""
    figures = [
        (CHART_CUSTOMERS, "COUNT(*)", "prospects included", ",d"),
        (f"{CHART_REVENUE} ({currency})", "SUM(net_revenue_to_date)", "what they bought, net of refunds", ",.0f"),
        (f"{CHART_PREDICTED_CLV} ({currency})", "SUM(predicted_clv)", "margin of their future purchases", ",.0f"),
        (f"{CHART_CRV} ({currency})", "SUM(crv)", "customer referral value", ",.0f"),
        (CHART_AS_OF, "MAX(as_of_date)", "the date of the data", "%Y-%m-%d"),
    ]
    return [
        (name, "big_number_total", big_number_params(dataset_id, expression, name, subtitle, number_format))
        for name, expression, subtitle, number_format in figures
    ]


def table_params(
    dataset_id: int, columns: list[str], kind: str, order_by: list[tuple[str, bool]], bars: tuple[str, ...]
) -> dict:
    """Table of segment_summary_ordered's rows of one segment_kind, in the given order."""
    percent = {"d3NumberFormat": ".1%"}
    money = {"d3NumberFormat": ",.0f"}
    config = {
        "customers": {"d3NumberFormat": ",d"},
        "customer_share": percent,
        "net_revenue_to_date": money,
        "net_revenue_share": percent,
        "predicted_clv": money,
        "mean_predicted_clv": money,
        "predicted_clv_share": percent,
        "crv": money,
        "crv_share": percent,
    }
    return {
        "viz_type": "table",
        "datasource": f"{dataset_id}__table",
        "query_mode": "raw",
        "all_columns": columns,
        "order_by_cols": [json.dumps([column, ascending]) for column, ascending in order_by],
        "adhoc_filters": [kind_filter(kind)],
        "row_limit": 100,
        "server_pagination": False,
        "include_search": False,
        "show_cell_bars": False,
        "allow_rearrange_columns": False,
        "column_config": {
            column: {**format_, "showCellBars": column in bars}
            for column, format_ in config.items()
            if column in columns
        },
    }


def shares_chart_params(dataset_id: int) -> dict:
    """Bars: each value segment's share of customers next to its share of revenue, of
    predicted CLV and of CRV, the segments in the two-by-two's order."""
    order = sql_metric("MIN(segment_order)", "place in the two-by-two")
    return {
        "viz_type": "echarts_timeseries_bar",
        "datasource": f"{dataset_id}__table",
        "x_axis": "segment_label",
        "metrics": [
            # Named so that their alphabetical order is this order (sort_series_type name).
            sql_metric("SUM(customer_share)", "Share of customers"),
            sql_metric("SUM(net_revenue_share)", "Share of net revenue"),
            sql_metric("SUM(predicted_clv_share)", "Share of predicted CLV"),
            sql_metric("SUM(crv_share)", "Share of referral value (CRV)"),
        ],
        "sort_series_type": "name",
        "sort_series_ascending": True,
        "groupby": [],
        "adhoc_filters": [kind_filter("value_segment")],
        # Sorted by a metric the chart does not draw: the segment's place in the two-by-two.
        "timeseries_limit_metric": order,
        "x_axis_sort": order["label"],
        "x_axis_sort_asc": True,
        "row_limit": 100,
        "orientation": "vertical",
        "show_value": True,
        "show_legend": True,
        "legendOrientation": "top",
        "legendType": "scroll",
        "color_scheme": "supersetColors",
        "y_axis_format": ".0%",
        "x_axis_title": "",
        "y_axis_title": "share of all customers' total",
        "y_axis_title_margin": 40,
        "y_axis_title_position": "Left",
        "rich_tooltip": True,
        "truncateXAxis": True,
    }


def markdown_intro(currency: str) -> str:
    return "\n\n".join(
        [
            (
                f"Every customer known on the date of the data, prospects included. Money in **{currency}**. "
                "**Net revenue**: what they bought, net of refunds. "
                "**Predicted CLV**: the margin expected from their future purchases. "
                "**CRV** (customer referral value): what the customers they brought in are worth, "
                "kept apart from CLV (never add the two)."
            ),
            (
                "**Value segments** put every customer in one cell of the CLV × CRV two-by-two "
                "(champion: high CLV, high CRV; affluent: high CLV, low CRV; advocate: low CLV, high CRV; "
                "miser: low CLV, low CRV), or among the prospects who have not bought yet: they add up to "
                "all customers. **Groups** are the lists marketing acts on: they overlap each other and the segments."
            ),
        ]
    )


def chart_cell(chart_id: int, uuid: str, name: str, width: int, height: int) -> dict:
    return {
        "type": "CHART",
        "children": [],
        "meta": {"chartId": chart_id, "uuid": uuid, "sliceName": name, "width": width, "height": height},
    }


def markdown_cell(code: str, width: int, height: int) -> dict:
    return {"type": "MARKDOWN", "children": [], "meta": {"code": code, "width": width, "height": height}}


def header_cell(text: str) -> dict:
    return {
        "type": "HEADER",
        "children": [],
        "meta": {"text": text, "headerSize": "MEDIUM_HEADER", "background": "BACKGROUND_TRANSPARENT"},
    }


def position(rows: list[list[dict]]) -> dict:
    """Dashboard layout (v2): rows of cells (chart_cell, markdown_cell, header_cell); a row
    holding a header holds it alone."""
    layout: dict = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
        "HEADER_ID": {"type": "HEADER", "id": "HEADER_ID", "meta": {"text": DASHBOARD_TITLE}},
    }
    for row_number, cells in enumerate(rows, start=1):
        if len(cells) == 1 and cells[0]["type"] == "HEADER":
            header = f"HEADER-{row_number}"
            layout["GRID_ID"]["children"].append(header)
            layout[header] = {**cells[0], "id": header, "parents": ["ROOT_ID", "GRID_ID"]}
            continue
        row = f"ROW-{row_number}"
        layout["GRID_ID"]["children"].append(row)
        layout[row] = {
            "type": "ROW",
            "id": row,
            "children": [],
            "parents": ["ROOT_ID", "GRID_ID"],
            "meta": {"background": "BACKGROUND_TRANSPARENT"},
        }
        for cell_number, cell in enumerate(cells, start=1):
            cell_id = f"{cell['type']}-{row_number}-{cell_number}"
            layout[row]["children"].append(cell_id)
            layout[cell_id] = {**cell, "id": cell_id, "parents": ["ROOT_ID", "GRID_ID", row]}
    return layout


def title_css(title: str) -> str:
    """Superset sizes the title's input to the text without the input's padding, so a
    title is cut ("Value segmen..."): give it room for the whole title."""
    return (
        ".dashboard-header-container .dynamic-title-input {\n"
        f"  min-width: {len(title) + 4}ch;\n"
        "  text-overflow: clip;\n"
        "}\n"
    )


def reporting_currency(api: Api, dataset_id: int) -> str:
    """The serving copy's reporting currency (customer_segments.reporting_currency)."""
    answer = api.call(
        "POST",
        "chart/data",
        json={
            "datasource": {"id": dataset_id, "type": "table"},
            "queries": [
                {"columns": [], "metrics": [sql_metric("ANY_VALUE(reporting_currency)", "currency")], "row_limit": 1}
            ],
            "result_format": "json",
            "result_type": "full",
        },
    )
    rows = answer["result"][0]["data"]
    return (rows[0]["currency"] if rows else None) or "reporting currency"


def define_dataset(api: Api, database_id: int, table: str, sql: str | None = None) -> int:
    """A dataset on marts.<table> (or virtual, on `sql`), with its columns refreshed."""
    existing = api.find("dataset", table_name=table, schema="marts")
    if existing:
        dataset_id = existing["id"]
        if sql is not None:
            api.call("PUT", f"dataset/{dataset_id}", json={"sql": sql})
    else:
        body = {"database": database_id, "schema": "marts", "table_name": table}
        if sql is not None:
            body["sql"] = sql
        dataset_id = api.call("POST", "dataset/", json=body)["id"]
    # Picks up new or changed columns of the mart.
    api.call("PUT", f"dataset/{dataset_id}/refresh")
    return dataset_id


def label_columns(api: Api, dataset_id: int, currency: str) -> None:
    """Business names (COLUMN_LABELS) as the dataset's column verbose names."""
    kept = (
        "id",
        "column_name",
        "verbose_name",
        "description",
        "type",
        "is_dttm",
        "groupby",
        "filterable",
        "expression",
        "python_date_format",
        "is_active",
        "advanced_data_type",
        "extra",
    )
    columns = api.call("GET", f"dataset/{dataset_id}")["result"]["columns"]
    api.call(
        "PUT",
        f"dataset/{dataset_id}",
        json={
            "columns": [
                {
                    **{key: column[key] for key in kept if key in column},
                    "verbose_name": label(column["column_name"], currency)
                    if column["column_name"] in COLUMN_LABELS
                    else column.get("verbose_name"),
                }
                for column in columns
            ]
        },
    )


def define_dashboard(api: Api, serving_file: Path) -> None:
    """The database, datasets, charts and dashboard; updates what already exists."""
    database_id = api.upsert(
        "database",
        {"database_name": DATABASE_NAME},
        {
            "database_name": DATABASE_NAME,
            "sqlalchemy_uri": f"duckdb:///{serving_file}",
            "expose_in_sqllab": True,
            "allow_dml": False,
            "allow_file_upload": False,
            # read_only: the serving copy is opened read-only, so it never blocks a publish.
            "extra": json.dumps({"engine_params": {"connect_args": {"read_only": True}}}),
        },
    )
    datasets = {table: define_dataset(api, database_id, table) for table in ("customer_segments", "segment_summary")}
    datasets[ORDERED_SUMMARY] = define_dataset(api, database_id, ORDERED_SUMMARY, ordered_summary_sql())
    currency = reporting_currency(api, datasets["customer_segments"])
    for dataset_id in datasets.values():
        label_columns(api, dataset_id, currency)

    dashboard_id = api.upsert(
        "dashboard",
        {"slug": DASHBOARD_SLUG},
        {"dashboard_title": DASHBOARD_TITLE, "slug": DASHBOARD_SLUG, "published": True},
    )
    ordered = datasets[ORDERED_SUMMARY]
    headlines = headline_charts(datasets["customer_segments"], currency)
    segments = (
        CHART_SEGMENTS,
        "table",
        table_params(
            ordered,
            SEGMENT_COLUMNS,
            "value_segment",
            [("segment_order", True)],
            bars=("customer_share", "net_revenue_share", "predicted_clv_share", "crv_share"),
        ),
    )
    shares = (CHART_SHARES, "echarts_timeseries_bar", shares_chart_params(ordered))
    groups = (
        CHART_GROUPS,
        "table",
        table_params(
            ordered, GROUP_COLUMNS, "group", [("customers", False), ("segment_label", True)], bars=("customer_share",)
        ),
    )

    cells = {}
    for name, viz_type, params in [*headlines, segments, shares, groups]:
        chart_id = api.upsert(
            "chart",
            {"slice_name": name},
            {
                "slice_name": name,
                "viz_type": viz_type,
                "datasource_id": int(params["datasource"].split("__")[0]),
                "datasource_type": "table",
                "params": json.dumps(params),
                "dashboards": [dashboard_id],
            },
        )
        uuid = api.call("GET", f"chart/{chart_id}")["result"].get("uuid") or ""
        cells[name] = (chart_id, uuid, name)
    # Charts of earlier definitions: retired ones are deleted, any other chart on the
    # dashboard is taken off it (kept in Superset's chart list).
    defined = {chart_id for chart_id, _, _ in cells.values()}
    for chart in api.call("GET", f"dashboard/{dashboard_id}/charts")["result"]:
        if chart["id"] in defined:
            continue
        if chart["slice_name"] in RETIRED_CHARTS:
            api.call("DELETE", f"chart/{chart['id']}")
        else:
            api.call("PUT", f"chart/{chart['id']}", json={"dashboards": []})

    headline_widths = [2, 3, 3, 2, 2]
    rows = [
        [markdown_cell(markdown_intro(currency), 12, 17)],
        [chart_cell(*cells[name], width, 22) for (name, _, _), width in zip(headlines, headline_widths)],
        [header_cell("Value segments: every customer in one, they add up to all customers")],
        [chart_cell(*cells[CHART_SEGMENTS], 12, 50)],
        [chart_cell(*cells[CHART_SHARES], 12, 62)],
        [header_cell("Groups: overlapping lists, a customer can be in several (do not add them up)")],
        [chart_cell(*cells[CHART_GROUPS], 12, 64)],
    ]
    api.call(
        "PUT",
        f"dashboard/{dashboard_id}",
        json={
            "position_json": json.dumps(position(rows)),
            "css": title_css(DASHBOARD_TITLE),
            "json_metadata": json.dumps({"color_scheme": "supersetColors", "refresh_frequency": 0}),
        },
    )


# --- command line --------------------------------------------------------------------


def configured(port: int | None = None, home: Path | None = None) -> Superset:
    return Superset(
        home=home or project_path(os.environ.get("SUPERSET_HOME") or DEFAULT_HOME),
        port=port or int(os.environ.get("SUPERSET_PORT") or DEFAULT_PORT),
        username=os.environ.get("SUPERSET_ADMIN_USER") or "admin",
        password=os.environ.get("SUPERSET_ADMIN_PASSWORD") or "admin",
    )


def serving_file_from_env() -> Path:
    return project_path(os.environ.get("SERVING_DIR") or DEFAULT_SERVING_DIR) / SERVING_FILE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m customer_value.dashboard", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "command",
        choices=["serve", "setup"],
        nargs="?",
        default="serve",
        help="serve: set up and keep serving until Ctrl-C (default); setup: set up, define, stop",
    )
    parser.add_argument("--port", type=int, help=f"port (default SUPERSET_PORT or {DEFAULT_PORT})")
    args = parser.parse_args(argv)

    serving_file = serving_file_from_env()
    if not serving_file.exists():
        log(f"no serving copy at {serving_file}: run scripts/build.sh (or dbt build) first")
        return 1
    superset = configured(port=args.port)
    bin_dir = ensure_venv()
    superset.initialise(bin_dir)
    log(f"starting Superset on {superset.url} (log: {superset.home / 'server.log'})")
    process = superset.start(bin_dir)
    try:
        define_dashboard(Api(superset), serving_file)
        log(f"dashboard defined on {serving_file} (read-only)")
        if args.command == "setup":
            return 0
        log(f"open {superset.dashboard_url} and log in as {superset.username!r}; Ctrl-C stops Superset")
        try:
            process.wait()
        except KeyboardInterrupt:
            pass
        return 0
    finally:
        stop(process)


if __name__ == "__main__":
    sys.exit(main())
