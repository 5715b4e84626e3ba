"""Helpers for tests that generate raw data and run dbt on it."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

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
