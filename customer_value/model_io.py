"""What the dbt Python models read and return, on either engine.

dbt hands a Python model its inputs as the engine's own relations: a DuckDB relation
(dbt-duckdb) or a Spark DataFrame (dbt-spark, :mod:`customer_value.spark_dbt`). The
models read them through :func:`arrow_table` and :func:`first_row`, return what
:func:`model_result` makes of an Arrow table, and score customers with
:func:`map_customers`, so that one model file serves both engines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa


def is_spark(engine_object: Any) -> bool:
    """True for a Spark DataFrame or SparkSession (what dbt-spark hands a model), False
    for DuckDB's relations and connections."""
    return type(engine_object).__module__.startswith("pyspark.")


def _columns(columns: str) -> list[str]:
    return [name.strip() for name in columns.split(",") if name.strip()]


def arrow_table(relation: Any, columns: str | None = None, *, sort_by: str | None = None) -> pa.Table:
    """The rows of ``relation`` (all its columns, or the comma-separated ``columns``) as
    an Arrow table, sorted by the column ``sort_by`` when given: engines hand rows over
    in no fixed order, and floating-point sums over them depend on it."""
    if is_spark(relation):
        table = (relation.select(*_columns(columns)) if columns else relation).toArrow()
    else:
        table = (relation.project(columns) if columns else relation).to_arrow_table()
    return table.sort_by(sort_by) if sort_by else table


def first_row(relation: Any) -> dict[str, Any]:
    """The first row of a one-row relation (a settings model) as a dict."""
    rows = arrow_table(relation).to_pylist()
    if not rows:
        raise ValueError("expected one row, found none")
    return rows[0]


def model_result(session: Any, table: pa.Table | pa.RecordBatchReader) -> Any:
    """What a Python model returns for ``table``, given the model's ``session`` argument:
    the Arrow data itself on DuckDB, a DataFrame of the SparkSession on Spark."""
    if not is_spark(session):
        return table
    if isinstance(table, pa.RecordBatchReader):
        table = table.read_all()
    return session.createDataFrame(table.cast(spark_schema(table.schema)))


def _spark_type(arrow_type: pa.DataType) -> pa.DataType:
    """``arrow_type`` with its 64-bit-offset variants (large lists, strings, binaries),
    which Spark does not read, replaced by the 32-bit ones."""
    if pa.types.is_large_list(arrow_type) or pa.types.is_list(arrow_type):
        return pa.list_(_spark_type(arrow_type.value_type))
    if pa.types.is_large_string(arrow_type):
        return pa.string()
    if pa.types.is_large_binary(arrow_type):
        return pa.binary()
    return arrow_type


def spark_schema(schema: pa.Schema) -> pa.Schema:
    """``schema`` in the Arrow types Spark reads (:func:`_spark_type`)."""
    return pa.schema([field.with_type(_spark_type(field.type)) for field in schema])


def map_customers(
    relation: Any,
    columns: str,
    score: Callable[[pa.Table], pa.RecordBatchReader],
    *,
    key: str = "customer_id",
) -> Any:
    """``score`` applied to the rows of ``relation`` (``columns``, sorted by ``key``),
    as the model's result.

    DuckDB: one call on every row, streamed back as Arrow batches. Spark: the engine's
    executors call ``score`` on each batch of each partition (``mapInArrow``), rows
    sorted by ``key`` within the partition, so that no customer passes through the
    driver. ``score`` must therefore treat each row on its own (a customer's result may
    not depend on the other rows, beyond the last digits of floating-point sums); the
    result's schema is what ``score`` gives for no rows.
    """
    if not is_spark(relation):
        return score(arrow_table(relation, columns, sort_by=key))
    from pyspark.sql.pandas.types import from_arrow_schema

    selected = relation.select(*_columns(columns))
    schema = spark_schema(score(selected.limit(0).toArrow()).schema)

    def score_batches(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            yield from score(pa.Table.from_batches([batch]).sort_by(key)).read_all().cast(schema).to_batches()

    return selected.sortWithinPartitions(key).mapInArrow(score_batches, from_arrow_schema(schema))
