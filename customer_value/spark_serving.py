"""The serving copy of a Spark build: one Parquet file per mart relation.

On DuckDB the on-run-end hook `publish_serving_copy` (macros/serving.sql) publishes with
DuckDB SQL. Spark's SQL writes a folder of part files and cannot rename one, so on Spark
the same hook only decides, with the same rules (a run publishes only when nothing in it
failed, errored or was skipped, it built every mart, it is not an --empty run, and no raw
table lost more than max_rejected_share of its rows unless accept_rejected_rows), and
logs its decision as the serving plan. The launcher (customer_value.spark_dbt) collects
that plan from dbt's events and, once dbt has returned, calls `publish_after_run`:

- the run failed (a node, the hook itself, or anything after it): nothing is published;
- the plan gives a reason not to publish: one log line says why, as on DuckDB;
- otherwise every mart relation is written by Spark as one file (`coalesce(1)`) into a
  hidden temporary folder, the single part file moved out as a hidden `.tmp` file, and
  only when all are written each is renamed over `parquet/<relation>.parquet`
  (customer_value.serving_files.replace: fsync, then one POSIX rename); Parquet files of
  relations that are no longer marts go.

Types: Spark's TIMESTAMP (with the session time zone, UTC) is written as TIMESTAMP_NTZ,
which Parquet stores as INT64 microseconds without UTC adjustment: the `timestamp[us]`
that DuckDB writes for its TIMESTAMP (not Spark's default INT96). Decimals stay
decimals, integers, doubles, booleans, dates and strings their Parquet types.

No DuckDB serving database (customer_value.duckdb) is written on Spark (docs/spark.md).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from customer_value.serving_files import TEMPORARY_SUFFIXES, prepare_dir, remove, replace, resolve_dir

#: What the hook spark__publish_serving_copy puts before the plan's JSON (macro
#: serving_plan_prefix in macros/serving.sql).
PLAN_PREFIX = "Serving plan for customer_value.spark_serving: "
#: A temporary folder Spark writes a relation into, beside the hidden .tmp files.
TEMPORARY_FOLDER_SUFFIX = ".tmp.d"

#: Writes relation `relation` (e.g. marts.customer_segments) as Parquet into the new
#: folder `folder`, as one part file.
Writer = Callable[[str, str], None]


@dataclass
class ServingPlan:
    """The hook's decision: where to publish, which relations, or why not."""

    serving_dir: str
    invocation_id: str
    reason: str
    accepted_rejected_rows: bool
    relations: list[dict[str, str]] = field(default_factory=list)

    @classmethod
    def from_log_message(cls, message: str) -> ServingPlan | None:
        if not message.startswith(PLAN_PREFIX):
            return None
        found = json.loads(message[len(PLAN_PREFIX) :])
        return cls(
            serving_dir=found["serving_dir"],
            invocation_id=found["invocation_id"],
            reason=found["reason"],
            accepted_rejected_rows=bool(found["accepted_rejected_rows"]),
            relations=list(found["relations"]),
        )


class PlanCollector:
    """A dbtRunner callback that keeps the last serving plan the hook logged."""

    def __init__(self) -> None:
        self.plan: ServingPlan | None = None

    def __call__(self, event: Any) -> None:
        if event.info.name != "JinjaLogDebug":
            return
        plan = ServingPlan.from_log_message(event.data.msg)
        if plan is not None:
            self.plan = plan


def log(message: str) -> None:
    """One line in dbt's log format (and dbt's log file), as the DuckDB hook's log()."""
    try:
        from dbt_common.events.functions import fire_event
        from dbt_common.events.types import Note

        fire_event(Note(msg=message))
    except Exception:  # noqa: BLE001 - outside dbt (the tests), a plain line
        print(message)


def spark_writer(spark: Any) -> Writer:
    """Writes a relation with Spark as one Parquet part file, timestamps as TIMESTAMP_NTZ."""

    def write(relation: str, folder: str) -> None:
        from pyspark.sql import functions as F
        from pyspark.sql.types import TimestampType

        frame = spark.table(relation)
        columns = [
            F.col(f"`{column.name}`").cast("timestamp_ntz").alias(column.name)
            if isinstance(column.dataType, TimestampType)
            else F.col(f"`{column.name}`")
            for column in frame.schema.fields
        ]
        previous = spark.conf.get("spark.sql.parquet.outputTimestampType")
        spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        try:
            frame.select(*columns).coalesce(1).write.mode("error").parquet(folder)
        finally:
            spark.conf.set("spark.sql.parquet.outputTimestampType", previous)

    return write


def _part_file(folder: Path) -> Path:
    parts = sorted(path for path in folder.glob("part-*") if path.suffix == ".parquet")
    if len(parts) != 1:
        raise RuntimeError(f"serving copy: expected one Parquet part file in {folder}, found {len(parts)}")
    return parts[0]


def _remove_temporaries(parquet_dir: Path, invocation_id: str | None = None) -> None:
    """Temporary folders (of this invocation, or all) and this invocation's temporary files."""
    if not parquet_dir.is_dir():
        return
    for entry in parquet_dir.iterdir():
        if not entry.name.startswith("."):
            continue
        if invocation_id is not None and f".{invocation_id}." not in entry.name:
            continue
        if entry.is_dir() and entry.name.endswith(TEMPORARY_FOLDER_SUFFIX):
            shutil.rmtree(entry, ignore_errors=True)
        elif entry.is_file() and entry.name.endswith(TEMPORARY_SUFFIXES):
            entry.unlink(missing_ok=True)


def publish(plan: ServingPlan, writer: Writer) -> list[str]:
    """Writes every relation of the plan and publishes it; the published files."""
    serving_dir = prepare_dir(resolve_dir(plan.serving_dir))
    parquet_dir = Path(serving_dir) / "parquet"
    _remove_temporaries(parquet_dir)  # folders an interrupted publish left behind
    names = [relation["name"] for relation in plan.relations]
    log(
        f"Serving copy: publishing {len(names)} mart relation(s) ({', '.join(names)}) to {serving_dir}"
        " as parquet/<relation>.parquet."
    )
    written: dict[str, str] = {}
    try:
        for relation in plan.relations:
            final = parquet_dir / f"{relation['name']}.parquet"
            temporary = parquet_dir / f".{relation['name']}.parquet.{plan.invocation_id}.tmp"
            folder = parquet_dir / f".{relation['name']}.parquet.{plan.invocation_id}{TEMPORARY_FOLDER_SUFFIX}"
            writer(relation["relation"], str(folder))
            _part_file(folder).rename(temporary)
            shutil.rmtree(folder)
            written[str(final)] = str(temporary)
        for final_file, temporary_file in written.items():
            replace(temporary_file, final_file)
    except BaseException:
        _remove_temporaries(parquet_dir, plan.invocation_id)
        raise
    for existing in sorted(parquet_dir.glob("*.parquet")):
        if str(existing) not in written:
            remove(str(existing))
    return sorted(written)


def publish_after_run(plan: ServingPlan | None, success: bool, make_writer: Callable[[], Writer]) -> list[str]:
    """What the launcher calls once dbt has returned: publishes when the run succeeded and
    the plan says it may; otherwise one log line says why not. `make_writer` is called
    only when something is written."""
    if plan is None:
        # Not a build, run or retry, or dbt stopped before its on-run-end hooks.
        return []
    serving_dir = resolve_dir(plan.serving_dir)
    published_before = any((Path(serving_dir) / "parquet").glob("*.parquet"))
    previous = (
        f"The previous copy in {serving_dir} is left as it was."
        if published_before
        else f"Nothing has been published in {serving_dir} yet."
    )
    reason = plan.reason
    if not reason and not success:
        reason = "the run failed after its nodes were built (an on-run-end hook or the launcher; see above)"
    if reason:
        log(f"Serving copy not published: {reason}. {previous}")
        return []
    if plan.accepted_rejected_rows:
        log(
            "Serving copy: publishing although a raw table lost more than max_rejected_share of its rows,"
            " because accept_rejected_rows is true."
        )
    return publish(plan, make_writer())
