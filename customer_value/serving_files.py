"""The file operations of publishing the serving copy, shared by both engines.

On DuckDB the plugin customer_value.serving registers them as SQL functions for the
on-run-end hook `publish_serving_copy` (macros/serving.sql); on Spark the launcher
(customer_value.spark_serving) calls them from Python after a successful build.

- ``resolve_dir(dir)``: the absolute serving folder. Empty means ``data/serving``;
  a relative path is taken from the dbt project folder, not from the current folder.
- ``prepare_dir(dir)``: creates the folder and its ``parquet/`` subfolder and
  removes temporary files an interrupted publish left behind.
- ``replace(temporary, final)``: flushes the finished temporary file to disk and
  renames it over the published one in a single step (POSIX rename), so a reader opens
  either the previous complete file or the new complete file, never a partial one.
  A reader that already has the previous file open keeps reading it.
- ``remove(path)``: deletes a published file that no longer has a mart.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_SERVING_DIR = "data/serving"
# Temporary files are hidden (leading dot) and end in `.tmp` (plus DuckDB's `.wal`),
# so that readers globbing `*.duckdb` or `parquet/*.parquet` never pick one up.
TEMPORARY_SUFFIXES = (".tmp", ".tmp.wal")


def project_dir() -> Path:
    """The folder of the dbt project being run (dbt's --project-dir, or where dbt found it)."""
    try:
        from dbt.flags import get_flags

        found = getattr(get_flags(), "PROJECT_DIR", None)
    except Exception:  # noqa: BLE001 - outside a dbt command (e.g. a linter rendering the project) any failure means "no dbt flags"
        found = None
    return Path(found).resolve() if found else Path.cwd()


def resolve_dir(serving_dir: str | None) -> str:
    path = Path(serving_dir or DEFAULT_SERVING_DIR).expanduser()
    if not path.is_absolute():
        path = project_dir() / path
    return str(path.resolve())


def prepare_dir(serving_dir: str) -> str:
    root = Path(serving_dir)
    for folder in (root, root / "parquet"):
        folder.mkdir(parents=True, exist_ok=True)
        for entry in folder.iterdir():
            if entry.name.startswith(".") and entry.name.endswith(TEMPORARY_SUFFIXES) and entry.is_file():
                entry.unlink(missing_ok=True)
    return str(root)


def _fsync(path: str, flags: int = os.O_RDONLY) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace(temporary: str, final: str) -> str:
    if not os.path.isfile(temporary):
        raise FileNotFoundError(f"serving copy: temporary file {temporary} is missing")
    if os.path.exists(temporary + ".wal"):
        # DuckDB left changes in its write-ahead log: the file alone is not complete.
        raise RuntimeError(f"serving copy: {temporary} was not checkpointed (it still has a .wal file)")
    _fsync(temporary)
    os.replace(temporary, final)
    _fsync(os.path.dirname(final) or ".", os.O_RDONLY | os.O_DIRECTORY)
    return final


def remove(path: str) -> str:
    Path(path).unlink(missing_ok=True)
    return path
