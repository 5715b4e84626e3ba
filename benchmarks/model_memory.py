"""Benchmark: the smallest DuckDB memory_limit each SQL model of a build completes within.

    python benchmarks/model_memory.py --database /tmp/m1/db.duckdb --target-path /tmp/m1/target

After a `dbt build` (or `dbt compile`) into --database with --target-path, each model's
compiled SQL (target/compiled/.../models/**/*.sql) is run again as `create table ... as`
into a scratch database, reading the built database read-only, under each --limits value
in turn (smallest first) until it completes. A model that needs more than the project's
`memory_limit` (3GB by default) makes a build of that size stop with "Out of Memory"; the
table says which models those are and by how much, at the size the database was built
with. Python models are not measured (no compiled SQL). Results are printed as a Markdown
table (docs/scale.md keeps the numbers).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import duckdb


def compiled_models(target_path: Path) -> list[Path]:
    """The compiled SQL of every model under target_path, sorted by model name."""
    return sorted(target_path.glob("compiled/*/models/**/*.sql"), key=lambda p: p.stem)


def completes_within(database: Path, sql: str, limit: str, threads: int, scratch: Path) -> tuple[bool, float, str]:
    """Whether `create table as <sql>` completes under memory_limit `limit`; seconds; error."""
    out = scratch / "out.duckdb"
    out.unlink(missing_ok=True)
    con = duckdb.connect()
    try:
        # The compiled SQL names relations "<catalog>"."<schema>"."<name>": attach under
        # the catalog name dbt-duckdb used, the file's stem.
        con.execute(f"attach '{database}' as \"{database.stem}\" (read_only)")
        con.execute(f"attach '{out}' as scratch_out")
        con.execute(
            f"set memory_limit = '{limit}'; set threads = {threads}; "
            f"set preserve_insertion_order = false; set temp_directory = '{scratch / 'spill'}'"
        )
        started = time.perf_counter()
        try:
            con.execute(f"create table scratch_out.measured as {sql}")
        except duckdb.OutOfMemoryException as error:
            return False, time.perf_counter() - started, str(error).splitlines()[0]
        return True, time.perf_counter() - started, ""
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", type=Path, required=True, help="the DuckDB file dbt built")
    parser.add_argument("--target-path", type=Path, required=True, help="dbt's target path of that build")
    parser.add_argument(
        "--limits",
        nargs="+",
        default=["300MB", "400MB", "600MB", "1GB", "1.5GB", "3GB"],
        help="memory limits to try, smallest first",
    )
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads (default 2, as on the build machine)")
    parser.add_argument("--all", action="store_true", help="list every model, not only those above the first limit")
    args = parser.parse_args(argv)

    models = compiled_models(args.target_path)
    if not models:
        print(f"no compiled models under {args.target_path}/compiled: run dbt build or compile first", file=sys.stderr)
        return 1
    print(f"| model | smallest limit that completes (tried {', '.join(args.limits)}) | seconds | first failure |")
    print("|---|---:|---:|---|")
    with tempfile.TemporaryDirectory(prefix="model_memory_") as scratch:
        for path in models:
            failure = ""
            needed = f"> {args.limits[-1]}"
            seconds = float("nan")
            for limit in args.limits:
                ok, seconds, error = completes_within(
                    args.database, path.read_text(), limit, args.threads, Path(scratch)
                )
                if ok:
                    needed = limit
                    break
                failure = failure or f"{limit}: {error[:80]}"
            if args.all or needed != args.limits[0]:
                print(f"| {path.stem} | {needed} | {seconds:.1f} | {failure} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
