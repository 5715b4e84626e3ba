"""The segments dashboard in Apache Superset, defined as code.

``python -m customer_value.dashboard serve`` (what ``scripts/dashboard.sh`` runs):

1. creates ``.venv-superset/`` with the exact pins of ``requirements-superset.txt``
   (Superset 6.1.0, duckdb-engine; skipped when already done);
2. initialises Superset's own metadata database in ``SUPERSET_HOME`` (default
   ``data/superset``; skipped when already done) with an admin user;
3. starts Superset (gunicorn) on 127.0.0.1:``SUPERSET_PORT`` (default 8088);
4. defines, through Superset's REST API, the database ``customer_value`` (the serving
   copy ``SERVING_DIR/customer_value.duckdb``, opened read-only), the datasets
   ``marts.customer_segments`` and ``marts.segment_summary``, two charts and the
   dashboard ``segments`` (updated in place when they exist, so running it again after
   changing this file redefines them);
5. keeps serving until Ctrl-C (``setup`` stops instead, once the dashboard is defined).

Runs with the project's Python (it needs only ``requests``); Superset runs in its own
virtual environment because its pins (SQLAlchemy 1.4, pandas 2.1, numpy 1.26) clash with
the project's.
"""

from __future__ import annotations

import argparse
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
DASHBOARD_TITLE = "Value segments"
CHART_CUSTOMERS = "Customers by value segment"
CHART_SUMMARY = "Segment summary"
SUMMARY_COLUMNS = [
    "segment_kind",
    "segment",
    "segment_label",
    "customers",
    "customer_share",
    "net_revenue_to_date",
    "mean_predicted_clv",
    "predicted_clv",
    "crv",
    "recommended_action_text",
]


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


def count_metric(label: str) -> dict:
    return {"expressionType": "SQL", "sqlExpression": "COUNT(*)", "label": label, "hasCustomLabel": True}


def customers_chart_params(dataset_id: int) -> dict:
    """Bar chart: customers per value segment (customer_segments), largest first."""
    return {
        "viz_type": "echarts_timeseries_bar",
        "datasource": f"{dataset_id}__table",
        "x_axis": "value_segment",
        "metrics": [count_metric("customers")],
        "groupby": [],
        "adhoc_filters": [],
        "row_limit": 100,
        "orientation": "vertical",
        "x_axis_sort": "customers",
        "x_axis_sort_asc": False,
        "show_value": True,
        "show_legend": False,
        "color_scheme": "supersetColors",
        "y_axis_format": ",d",
        "x_axis_title": "value segment",
        "x_axis_title_margin": 30,
        "y_axis_title": "customers",
        "y_axis_title_margin": 40,
        "rich_tooltip": True,
        "truncateXAxis": True,
    }


def summary_chart_params(dataset_id: int) -> dict:
    """Table: segment_summary as it is, value segments first, then the groups."""
    percent = {"d3NumberFormat": ".1%"}
    money = {"d3NumberFormat": ",.0f"}
    return {
        "viz_type": "table",
        "datasource": f"{dataset_id}__table",
        "query_mode": "raw",
        "all_columns": SUMMARY_COLUMNS,
        "order_by_cols": [json.dumps(["segment_kind", False]), json.dumps(["customers", False])],
        "adhoc_filters": [],
        "row_limit": 100,
        "server_pagination": False,
        "include_search": False,
        "show_cell_bars": False,
        "table_timestamp_format": "smart_date",
        "column_config": {
            "customers": {"d3NumberFormat": ",d", "showCellBars": True},
            "customer_share": {**percent, "showCellBars": True},
            "net_revenue_to_date": money,
            "mean_predicted_clv": money,
            "predicted_clv": money,
            "crv": money,
        },
    }


def position(charts: list[tuple[int, str, str, int, int]]) -> dict:
    """Dashboard layout (v2): a header and one chart per row, (id, uuid, name, width, height)."""
    layout: dict = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
        "HEADER_ID": {"type": "HEADER", "id": "HEADER_ID", "meta": {"text": DASHBOARD_TITLE}},
    }
    for number, (chart_id, uuid, name, width, height) in enumerate(charts, start=1):
        row, chart = f"ROW-{number}", f"CHART-{number}"
        layout["GRID_ID"]["children"].append(row)
        layout[row] = {
            "type": "ROW",
            "id": row,
            "children": [chart],
            "parents": ["ROOT_ID", "GRID_ID"],
            "meta": {"background": "BACKGROUND_TRANSPARENT"},
        }
        layout[chart] = {
            "type": "CHART",
            "id": chart,
            "children": [],
            "parents": ["ROOT_ID", "GRID_ID", row],
            "meta": {"chartId": chart_id, "uuid": uuid, "sliceName": name, "width": width, "height": height},
        }
    return layout


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
    datasets = {}
    for table in ("customer_segments", "segment_summary"):
        existing = api.find("dataset", table_name=table, schema="marts")
        if existing:
            dataset_id = existing["id"]
        else:
            dataset_id = api.call(
                "POST", "dataset/", json={"database": database_id, "schema": "marts", "table_name": table}
            )["id"]
        # Picks up new or changed columns of the mart.
        api.call("PUT", f"dataset/{dataset_id}/refresh")
        datasets[table] = dataset_id

    dashboard_id = api.upsert(
        "dashboard",
        {"slug": DASHBOARD_SLUG},
        {"dashboard_title": DASHBOARD_TITLE, "slug": DASHBOARD_SLUG, "published": True},
    )
    charts = []
    for name, viz_type, params, width, height in [
        (CHART_CUSTOMERS, "echarts_timeseries_bar", customers_chart_params(datasets["customer_segments"]), 12, 60),
        (CHART_SUMMARY, "table", summary_chart_params(datasets["segment_summary"]), 12, 90),
    ]:
        table = "customer_segments" if name == CHART_CUSTOMERS else "segment_summary"
        chart_id = api.upsert(
            "chart",
            {"slice_name": name},
            {
                "slice_name": name,
                "viz_type": viz_type,
                "datasource_id": datasets[table],
                "datasource_type": "table",
                "params": json.dumps(params),
                "dashboards": [dashboard_id],
            },
        )
        uuid = api.call("GET", f"chart/{chart_id}")["result"].get("uuid") or ""
        charts.append((chart_id, uuid, name, width, height))
    api.call(
        "PUT",
        f"dashboard/{dashboard_id}",
        json={
            "position_json": json.dumps(position(charts)),
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
