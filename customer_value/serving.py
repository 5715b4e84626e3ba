"""dbt-duckdb plugin: the file operations that publishing the serving copy needs.

The publish step itself is the on-run-end hook `publish_serving_copy` (macros/serving.sql):
it decides whether the run may publish, writes every file under a temporary name with
DuckDB SQL, and then calls the functions registered here, because DuckDB SQL can neither
create a folder nor rename or delete a file.

Registered on every connection dbt opens (profiles.yml, `plugins:`), as
``serving_resolve_dir``, ``serving_prepare_dir``, ``serving_replace`` and
``serving_remove``: the functions of customer_value.serving_files (which the Spark
launcher calls from Python, customer_value.spark_serving), described there.
"""

from __future__ import annotations

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb.sqltypes import VARCHAR

from customer_value.serving_files import prepare_dir, remove, replace, resolve_dir


class Plugin(BasePlugin):
    """Registers the serving_* functions on the connection dbt-duckdb opens."""

    FUNCTIONS = (
        # name, function, parameter types, has side effects
        ("serving_resolve_dir", resolve_dir, [VARCHAR], False),
        ("serving_prepare_dir", prepare_dir, [VARCHAR], True),
        ("serving_replace", replace, [VARCHAR, VARCHAR], True),
        ("serving_remove", remove, [VARCHAR], True),
    )

    def configure_connection(self, conn) -> None:
        # Functions belong to the database, not the connection: when dbt-duckdb reconnects
        # while the database is still open, they are there already.
        existing = {
            name
            for (name,) in conn.execute(
                "select function_name from duckdb_functions() where starts_with(function_name, 'serving_')"
            ).fetchall()
        }
        for name, function, parameters, side_effects in self.FUNCTIONS:
            if name not in existing:
                conn.create_function(name, function, parameters, VARCHAR, side_effects=side_effects)
