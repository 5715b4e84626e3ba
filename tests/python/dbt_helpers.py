"""Helpers for tests that generate raw data and run dbt on it."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

from customer_value.compare import BUILD_TIME_COLUMNS

PROJECT_DIR = Path(__file__).resolve().parents[2]
DBT = str(Path(sys.executable).with_name("dbt"))


@dataclass
class DbtResult:
    """Outcome of one dbt invocation."""

    returncode: int
    output: str
    database: Path
    serving_dir: Path

    def query(self, sql: str) -> list[tuple]:
        """Run a read-only query against the database the build wrote."""
        with duckdb.connect(str(self.database), read_only=True) as con:
            return con.execute(sql).fetchall()


def generate(out: Path, *args: str) -> Path:
    """Run the project's data generator into `out`."""
    subprocess.run(
        [sys.executable, "-m", "customer_value.generator", "--out", str(out), "--quiet", *args],
        check=True,
        cwd=PROJECT_DIR,
    )
    return out


def rewrite_parquet(path: Path, select: str) -> None:
    """Replace the Parquet file `path` by the rows of `select`, a query over its current
    rows as table `t` (how the tests break a raw file in one way)."""
    with duckdb.connect() as con:
        con.execute(f"create table t as select * from read_parquet('{path}')")
        con.execute(f"copy ({select}) to '{path}' (format parquet)")


def run_dbt(raw_dir: Path, work_dir: Path, *args: str, command: str = "build") -> DbtResult:
    """Run a dbt command on raw files in `raw_dir`, writing only inside `work_dir`.

    The database is `work_dir/test.duckdb`, the serving copy goes to `work_dir/serving`,
    and dbt imports this checkout's `customer_value` package (its plugin and models).
    """
    database = work_dir / "test.duckdb"
    serving_dir = work_dir / "serving"
    env = {
        **os.environ,
        "RAW_DATA_DIR": str(raw_dir),
        "DBT_DUCKDB_PATH": str(database),
        "DBT_PROFILES_DIR": str(PROJECT_DIR),
        "SERVING_DIR": str(serving_dir),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_DIR), os.environ.get("PYTHONPATH")])),
    }
    completed = subprocess.run(
        [
            DBT,
            command,
            "--target-path",
            str(work_dir / "target"),
            "--log-path",
            str(work_dir / "logs"),
            *args,
        ],
        check=False,
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    return DbtResult(completed.returncode, completed.stdout + completed.stderr, database, serving_dir)


def assert_build_ok(result: DbtResult) -> None:
    """The dbt command succeeded and printed no warning."""
    assert result.returncode == 0, result.output[-5000:]
    assert "[WARNING]" not in result.output, result.output[-5000:]


def relation_differences(
    database_a: Path, database_b: Path, relations: list[str], rel_tol: float | None = None
) -> dict:
    """For each relation ("schema.name") that differs: (rows only in a, rows only in b),
    compared as multisets (`except all`, both ways). With rel_tol, floating columns may
    differ by that relative tolerance (parallel sums and fits started from rows in another
    order differ in their last bits): rows are matched on all other columns. The columns
    that record when a build ran (`built_at`) are left out."""
    differences = {}
    with duckdb.connect() as con:
        con.execute(f"attach '{database_a}' as a (read_only)")
        con.execute(f"attach '{database_b}' as b (read_only)")
        for relation in relations:
            schema, name = relation.split(".")
            columns = con.execute(
                "select column_name, data_type from information_schema.columns"
                " where table_catalog = 'a' and table_schema = ? and table_name = ? order by ordinal_position",
                [schema, name],
            ).fetchall()
            columns = [(c, t) for c, t in columns if c not in BUILD_TIME_COLUMNS]
            listed = ", ".join(f'"{c}"' for c, _ in columns)
            floats = [f'"{c}"' for c, t in columns if rel_tol is not None and t in ("DOUBLE", "FLOAT", "DOUBLE[]")]
            exact = [f'"{c}"' for c, t in columns if f'"{c}"' not in floats]
            if not floats:
                counts = [
                    con.execute(
                        f"select count(*) from (select {listed} from {x}.{relation}"
                        f" except all select {listed} from {y}.{relation})"
                    ).fetchone()[0]
                    for x, y in (("a", "b"), ("b", "a"))
                ]
            else:
                on = " and ".join(f"x.{c} is not distinct from y.{c}" for c in exact) or "true"
                close = " and ".join(
                    f"(x.{c} is not distinct from y.{c} or list_sum(list_transform(list_zip("
                    f"flatten([x.{c}]), flatten([y.{c}])), lambda v: abs(v[1] - v[2]) > {rel_tol} * greatest(abs(v[1]), abs(v[2]), 1e-12)"
                    f")) = 0)"
                    if t == "DOUBLE[]"
                    else f"(x.{c} is not distinct from y.{c} or abs(x.{c} - y.{c}) <= {rel_tol} * greatest(abs(x.{c}), abs(y.{c})))"
                    for c, t in ((f'"{c}"', t) for c, t in columns if f'"{c}"' in floats)
                )
                counts = [
                    con.execute(
                        f"select count(*) from {x}.{relation} as x"
                        f" where not exists (select 1 from {y}.{relation} as y where {on} and {close})"
                    ).fetchone()[0]
                    for x, y in (("a", "b"), ("b", "a"))
                ]
            if any(counts):
                differences[relation] = tuple(counts)
    return differences


def mart_relations(database: Path) -> list[str]:
    """Every table and view of the marts schema, as "marts.name"."""
    with duckdb.connect(str(database), read_only=True) as con:
        return [
            f"marts.{name}"
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
            ).fetchall()
        ]
