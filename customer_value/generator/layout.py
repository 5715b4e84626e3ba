"""Raw tables as folders of daily files, as a daily export delivers them.

The project reads a table either from one file (`transactions.parquet`) or from a folder
of files (`transactions/*.parquet`), staging only the files it has not staged before.
`as_daily_folders` turns a generated export into the folder form for trying daily runs:
each event table becomes `<table>/0000_history.<format>` (every row before the last day)
and `<table>/<last day>.<format>` (that day's rows).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

#: The event tables staged incrementally, and the timestamp that dates each row.
EVENT_TABLES = {"transactions": "transacted_at", "email_events": "occurred_at", "community_activity": "occurred_at"}


def _reader(path: Path, fmt: str) -> str:
    if fmt == "csv":
        return f"read_csv('{path}', header = true, all_varchar = true)"
    return f"read_parquet('{path}')"


def as_daily_folders(out: Path, fmt: str, end_date: date) -> dict[str, str]:
    """Rewrite each event table's file in `out` as a folder of a history file and a file
    of its last day up to `end_date` (rows whose timestamp cannot be read, or lies after
    `end_date`, stay in the history file).
    Returns each table's last day. The rows, and their order within each file, are kept."""
    days: dict[str, str] = {}
    options = "(header, format csv)" if fmt == "csv" else "(format parquet)"
    with duckdb.connect() as con:
        for table, column in EVENT_TABLES.items():
            path = out / f"{table}.{fmt}"
            if not path.exists():
                continue
            folder = out / table
            folder.mkdir(exist_ok=True)
            con.execute(f"create or replace table rows as select * from {_reader(path, fmt)}")
            day_sql = f"cast(try_cast({column} as timestamp) as date)"
            last_day = con.execute(f"select max({day_sql}) from rows where {day_sql} <= ?", [end_date]).fetchone()
            if last_day is None or last_day[0] is None:
                continue
            day = str(last_day[0])
            con.execute(
                f"copy (select * from rows where {day_sql} is distinct from date '{day}') "
                f"to '{folder / f'0000_history.{fmt}'}' {options}"
            )
            con.execute(
                f"copy (select * from rows where {day_sql} = date '{day}') to '{folder / f'{day}.{fmt}'}' {options}"
            )
            path.unlink()
            days[table] = day
    return days
