"""dbt-duckdb plugin: the file operations that publishing the serving copy needs.

The publish step itself is the on-run-end hook `publish_serving_copy` (macros/serving.sql):
it decides whether the run may publish, writes every file under a temporary name with
DuckDB SQL, and then calls the functions registered here, because DuckDB SQL can neither
create a folder nor rename or delete a file.

Registered on every connection dbt opens (profiles.yml, `plugins:`):

- ``serving_resolve_dir(dir)``: the absolute serving folder. Empty means ``data/serving``;
  a relative path is taken from the dbt project folder, not from the current folder.
- ``serving_prepare_dir(dir)``: creates the folder and its ``parquet/`` subfolder and
  removes temporary files an interrupted publish left behind.
- ``serving_replace(temporary, final)``: flushes the finished temporary file to disk and
  renames it over the published one in a single step (POSIX rename), so a reader opens
  either the previous complete file or the new complete file, never a partial one.
  A reader that already has the previous file open keeps reading it.
- ``serving_remove(path)``: deletes a published file that no longer has a mart.
"""

from __future__ import annotations

import os
from pathlib import Path

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb.sqltypes import VARCHAR

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
