"""dbt-duckdb plugin of this project (profiles.yml: `plugins: [{module: customer_value.dbt_plugin}]`).

It turns what would be a traceback or a bare DuckDB error into a message that says
what to do:

- the database file is locked by another program (a dashboard, a notebook): one line
  naming the file and the program, and that BI tools should open the serving copy;
- the database folder does not exist yet: it is created;
- a raw file that cannot be read to the end (truncated or corrupted Parquet, broken
  CSV): the SQL function `customer_value_raw_file_error(path, format)` reads it in a
  separate in-memory DuckDB and returns the reason instead of failing, so that the
  macro raw_table() can stop the build naming the file and saying to export it again.

When dbt opens the database, the modules the Python models import (customer_value.clv:
numpy, scipy) start loading in a background thread, so that the first Python model of a
build does not wait for them on the build's critical path.

With the environment variable DUCKDB_THREADS set, every connection runs DuckDB with that
many threads (by default DuckDB uses every core).

It also hands the customer-key secret to SQL without it ever appearing in SQL text,
compiled files or logs: every cursor gets the DuckDB variable `customer_key_secret`
from the environment variable CUSTOMER_KEY_SECRET (macros/privacy.sql).
"""

from __future__ import annotations

import importlib
import os
import re
import threading
from typing import Any

import duckdb
from dbt.adapters.duckdb.plugins import BasePlugin
from dbt_common.exceptions import DbtRuntimeError
from duckdb.func import SPECIAL

SERVING_COPY = "data/serving/customer_value.duckdb"
CUSTOMER_KEY_ENV_VAR = "CUSTOMER_KEY_SECRET"
THREADS_ENV_VAR = "DUCKDB_THREADS"


def locked_message(path: str, error: str) -> str:
    holder = re.search(r"Conflicting lock is held in (.*?) \(PID (\d+)\)", error)
    who = f" ({holder.group(1)}, PID {holder.group(2)})" if holder else ""
    return (
        f"The database file '{os.path.abspath(path)}' is in use by another program{who}, and DuckDB lets"
        " only one program write it. Close that program (or its connection) and build again."
        f" BI tools and notebooks should open the serving copy ({SERVING_COPY} in the project folder),"
        " not the working database."
    )


PYTHON_MODEL_MODULES = ("customer_value.clv",)


def _import_python_model_modules() -> None:
    for name in PYTHON_MODEL_MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the Python model importing it reports the error
            return


def preload_python_model_modules() -> None:
    """Start importing what the Python models import, in a daemon thread: the staging
    models keep the dbt threads busy in DuckDB meanwhile, and the first Python model finds
    the modules loaded (Python's import lock makes it wait for a half-done import)."""
    threading.Thread(target=_import_python_model_modules, name="preload-python-models", daemon=True).start()


def raw_file_error(path: str | None, file_format: str | None) -> str | None:
    """Why the raw file cannot be read to the end, or None when it can.

    Every column of every row is decoded (hashing the whole row), so a truncated
    file, a corrupted data page or a malformed CSV line shows up here.
    """
    if path is None:
        return None
    if file_format == "csv":
        reader = "read_csv(?, header = true, all_varchar = true)"
    else:
        reader = "read_parquet(?)"
    try:
        with duckdb.connect() as con:
            con.execute(f"select max(hash(raw)) from {reader} as raw", [path]).fetchall()
    except duckdb.Error as error:
        return str(error).strip().splitlines()[0]
    return None


class Plugin(BasePlugin):
    def update_connection_config(self, creds: Any, config: dict[str, Any]) -> None:
        # Called just before dbt-duckdb opens the database: open it once here to turn
        # the errors of that step into messages (dbt would print a traceback).
        preload_python_model_modules()
        path = creds.path
        if not path or path == ":memory:" or re.match(r"^[a-z]+:", path):
            return
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        try:
            duckdb.connect(path, config=dict(config)).close()
        except duckdb.Error as error:
            if "lock" in str(error).lower():
                raise DbtRuntimeError(locked_message(path, str(error))) from None
            raise DbtRuntimeError(
                f"Cannot open the database file '{os.path.abspath(path)}': {str(error).splitlines()[0]}"
                " Set DBT_DUCKDB_PATH to a DuckDB file you can write (a new one is created)."
            ) from None

    def configure_connection(self, conn: duckdb.DuckDBPyConnection) -> None:
        threads = os.environ.get(THREADS_ENV_VAR, "").strip()
        if threads:
            if not threads.isdigit() or int(threads) < 1:
                raise DbtRuntimeError(
                    f"{THREADS_ENV_VAR}={threads!r} is not a number of threads: set it to a whole number"
                    " of at least 1, or unset it to let DuckDB use every core."
                )
            conn.execute(f"set threads = {int(threads)}")
        conn.create_function(
            "customer_value_raw_file_error",
            raw_file_error,
            ["VARCHAR", "VARCHAR"],
            "VARCHAR",
            null_handling=SPECIAL,
            side_effects=True,
        )

    def configure_cursor(self, cursor: duckdb.DuckDBPyConnection) -> None:
        secret = os.environ.get(CUSTOMER_KEY_ENV_VAR, "")
        if secret:
            cursor.execute("set variable customer_key_secret = ?", [secret])
