"""Writing raw tables chunk by chunk (Parquet or CSV) and the ground truth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from .schema import arrow_schema, timestamps_to_text


class TableSink:
    """Appends chunks of one raw table to ``<out>/<table>.<fmt>``.

    Data goes to a ``.partial`` file that replaces the real one only on :meth:`commit`,
    so an interrupted run never leaves a half-written table behind a complete name.
    CSV: header, comma separated, UTF-8, timestamps 'YYYY-MM-DD HH:MM:SS', booleans
    true/false, empty field for NULL.
    """

    def __init__(self, out: Path, table: str, fmt: str, timestamps_as_text: bool) -> None:
        self.path = out / f"{table}.{fmt}"
        self.partial = out / f"{table}.{fmt}.partial"
        self.text = timestamps_as_text or fmt == "csv"
        self.schema = arrow_schema(table, timestamps_as_text=self.text)
        self.rows = 0
        self.writer: pq.ParquetWriter | pcsv.CSVWriter
        if fmt == "parquet":
            self.writer = pq.ParquetWriter(self.partial, self.schema)
        else:
            self.writer = pcsv.CSVWriter(self.partial, self.schema)

    def write(self, tbl: pa.Table) -> None:
        if self.text:
            tbl = timestamps_to_text(tbl)
        if tbl.num_rows:
            self.writer.write_table(tbl.cast(self.schema))
            self.rows += tbl.num_rows

    def commit(self) -> None:
        self.writer.close()
        self.partial.replace(self.path)

    def abort(self) -> None:
        self.writer.close()
        self.partial.unlink(missing_ok=True)


def write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=2) + "\n", encoding="utf-8")


def write_parquet(path: Path, tbl: pa.Table) -> None:
    pq.write_table(tbl, path)
