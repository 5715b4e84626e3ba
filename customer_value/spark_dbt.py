"""dbt on the ``spark`` target, with the project's Python models run in the Spark session.

dbt-spark submits Python models to Databricks clusters only. With ``method: session``
(the ``spark`` output of profiles.yml) Spark runs inside the dbt process, so a Python
model can run there too: this launcher adds a ``session`` submission method that runs
the model's compiled code in-process with the active SparkSession (the model reads
its inputs as DataFrames and returns one; dbt-spark's own code writes the table), makes
it the default for session connections, and then runs the dbt command line.

    .venv-spark/bin/python -m customer_value.spark_dbt build --target spark

It also prepares the session as the project's dbt-duckdb plugin prepares a DuckDB
connection: the customer key secret (CUSTOMER_KEY_SECRET) becomes the session variable
``customer_key_secret``, so that ``email_key`` is computed without the secret in any SQL
text, compiled file or log (macros/privacy.sql), and the SQL function
``customer_value_raw_file_error`` lets the raw-file check name a truncated or corrupted
Parquet file (macros/raw_data.sql). After a successful ``build``, ``run`` or ``retry`` it publishes the
serving copy, one Parquet file per mart relation in SERVING_DIR
(customer_value.spark_serving).

``scripts/build.sh --target spark`` runs this. Exit codes are dbt's: 0 success, 1 a
node failed, 2 dbt could not run.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent


class SessionPythonJobHelper:
    """dbt-spark's PythonJobHelper interface (``__init__(parsed_model, credentials)``,
    ``submit(compiled_code)``) for ``method: session``: runs the code here."""

    def __init__(self, parsed_model: dict[str, Any], credentials: Any) -> None:
        self.name = f"{parsed_model['schema']}.{parsed_model['alias']}"
        if getattr(credentials, "method", None) != "session":
            raise RuntimeError(
                f"Python model {self.name}: the session submission method runs only with "
                "`method: session` (the spark output of profiles.yml); on a cluster use "
                "Databricks (dbt-databricks) for the Python models, see docs/spark.md."
            )

    def submit(self, compiled_code: str) -> None:
        from pyspark.sql import SparkSession

        spark = SparkSession.getActiveSession() or SparkSession.builder.getOrCreate()
        code = compile(compiled_code, f"<python model {self.name}>", "exec")
        exec(code, {"__name__": f"dbt_python_model_{self.name}", "spark": spark})  # noqa: S102


def register_session_submission() -> None:
    """Make ``session`` a submission method of dbt-spark, the default when the
    connection is a session one."""
    from dbt.adapters.spark.impl import SparkAdapter

    helpers = SparkAdapter.python_submission_helpers.fget
    default = SparkAdapter.default_python_submission_method.fget

    def python_submission_helpers(self: Any) -> dict[str, Any]:
        return {**helpers(self), "session": SessionPythonJobHelper}

    def default_python_submission_method(self: Any) -> str:
        if self.config.credentials.method == "session":
            return "session"
        return default(self)

    SparkAdapter.python_submission_helpers = property(python_submission_helpers)
    SparkAdapter.default_python_submission_method = property(default_python_submission_method)


CUSTOMER_KEY_ENV_VAR = "CUSTOMER_KEY_SECRET"
# Set by this launcher: the macros then use what it adds to the session (the variable
# customer_key_secret, the function customer_value_raw_file_error), which a session it
# did not prepare lacks (macros/privacy.sql, macros/raw_data.sql).
SESSION_MARKER = "CUSTOMER_VALUE_SPARK_SESSION"


def raw_file_error(path: str | None, file_format: str | None) -> str | None:
    """Why a raw Parquet file (or a file of a folder's glob) cannot be read to the end, or
    None when it can: Spark's counterpart of customer_value.dbt_plugin.raw_file_error,
    with pyarrow. Every column chunk of every row group is decoded, so a truncated file or
    a corrupted page shows up here. CSV files and paths on other file systems (s3://, ...)
    are not checked here: Spark reads them when the base model runs."""
    import glob
    import re

    if path is None or file_format != "parquet":
        return None
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", path):
        if not path.startswith("file:"):
            return None
        path = re.sub(r"^file:(//)?", "", path)
    import pyarrow
    from pyarrow import parquet

    files = sorted(glob.glob(path)) if glob.has_magic(path) else [path]
    for file in files:
        try:
            for _ in parquet.ParquetFile(file).iter_batches(batch_size=65_536):
                pass
        except (OSError, pyarrow.ArrowException) as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            return reason if len(files) == 1 else f"{Path(file).name}: {reason}"
    return None


def prepare_session(spark: Any) -> None:
    """What the project's SQL needs from a session this launcher prepares: the session
    variable ``customer_key_secret`` (CUSTOMER_KEY_SECRET, NULL when unset; the value is
    bound as a parameter, so it is in no SQL text) and the SQL function
    ``customer_value_raw_file_error(path, format)`` (raw_file_error)."""
    spark.sql("declare or replace variable customer_key_secret string default null")
    secret = os.environ.get(CUSTOMER_KEY_ENV_VAR, "")
    if secret:
        spark.sql("set var customer_key_secret = :secret", args={"secret": secret})
    spark.udf.register("customer_value_raw_file_error", raw_file_error, "string")


def register_session_preparation() -> None:
    """Prepare the session dbt-spark opens (prepare_session) before its first statement.
    dbt-spark's session cursor builds (or finds) the SparkSession on every ``execute``;
    the wrapper builds it the same way first and prepares it once."""
    from dbt.adapters.spark import session as spark_session_module
    from pyspark.sql import SparkSession

    original_execute = spark_session_module.Cursor.execute
    prepared: set[int] = set()

    def execute(self: Any, sql: str, *parameters: Any) -> None:
        builder = SparkSession.builder.enableHiveSupport()
        for parameter, value in self.server_side_parameters.items():
            builder = builder.config(parameter, value)
        spark = builder.getOrCreate()
        if id(spark) not in prepared:
            prepare_session(spark)
            prepared.add(id(spark))
        original_execute(self, sql, *parameters)

    spark_session_module.Cursor.execute = execute
    os.environ[SESSION_MARKER] = "1"


def prepare_environment() -> None:
    """Spark's Python workers (``mapInArrow`` in customer_value.model_io) run this
    interpreter and import the project's package."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    paths = [str(PROJECT_DIR), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))


def main(argv: list[str] | None = None) -> int:
    prepare_environment()
    register_session_submission()
    register_session_preparation()
    from dbt.cli.main import dbtRunner

    from customer_value.spark_serving import PlanCollector, log, publish_after_run, spark_writer

    plans = PlanCollector()
    result = dbtRunner(callbacks=[plans]).invoke(list(sys.argv[1:] if argv is None else argv))
    if result.exception is not None:
        # dbt's own command line prints these (a bad option, a missing profile): so do we
        print(f"dbt: {result.exception}", file=sys.stderr)
        return 2
    # The serving copy (customer_value/spark_serving.py): the on-run-end hook of a build,
    # run or retry decided and logged its plan; publish after a successful run.
    try:
        publish_after_run(plans.plan, result.success, lambda: spark_writer(active_spark_session()))
    except Exception as error:  # noqa: BLE001 - reported as a failed run, as on DuckDB a failing hook
        log(f"Serving copy: publishing failed, the previous copy is left as it was: {error}")
        return 1
    return 0 if result.success else 1


def active_spark_session() -> Any:
    """The session dbt-spark ran the build in (``method: session``: this process)."""
    from pyspark.sql import SparkSession

    return SparkSession.getActiveSession() or SparkSession.builder.getOrCreate()


if __name__ == "__main__":
    sys.exit(main())
