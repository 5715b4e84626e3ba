"""The relations of a Spark build (staging, intermediate, marts), exported to Parquet
and loaded into a DuckDB file, so that `python -m customer_value.compare --tolerant` can
compare them with a DuckDB build's.

Two steps, each in the virtual environment that has its engine (docs/spark.md):

    .venv-spark/bin/python -m customer_value.spark_export export --out target/spark/export \\
        --schema staging intermediate marts
    .venv/bin/python -m customer_value.spark_export load --export target/spark/export \\
        --like data/customer_value.duckdb --into target/spark/spark.duckdb --schema staging intermediate marts
    .venv/bin/python -m customer_value.compare --tolerant data/customer_value.duckdb \\
        target/spark/spark.duckdb --schemas staging intermediate marts

`export` opens a Spark session with the spark target's settings, rendered from
profiles.yml (so the same warehouse and metastore: DBT_SPARK_DIR, by default target/spark),
and writes every table and view of each schema (`--schema`, default
staging; several may be given) as one Parquet folder, out/<schema>/<relation>, its
timestamps as TIMESTAMP_NTZ (Spark's session time zone is UTC, so the values are the UTC
ones DuckDB holds). `load` creates each relation in the DuckDB file with the column
names, order and types of the same relation in the DuckDB build (`--like`), so that the
comparison is of values: a value that does not survive the cast fails the load.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent


def profile_parameters(project_dir: Path = PROJECT_DIR, target: str = "spark") -> dict[str, str]:
    """The Spark settings of a target of profiles.yml (`server_side_parameters`), rendered
    by dbt as a build renders them, so that this session opens the same warehouse and
    metastore as the build with the same settings (dbt-spark adds ANSI mode off)."""
    from argparse import Namespace

    from dbt.config.runtime import load_profile
    from dbt.flags import set_from_args
    from dbt_common.context import set_invocation_context

    set_invocation_context(dict(os.environ))
    set_from_args(Namespace(PROFILES_DIR=str(project_dir)), None)
    profile = load_profile(str(project_dir), {}, None, target)
    parameters: dict[str, str] = getattr(profile.credentials, "server_side_parameters", {})
    return dict(parameters)


def spark_session(project_dir: Path = PROJECT_DIR) -> Any:
    """A Spark session on the spark target's metastore and warehouse, with its settings."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.enableHiveSupport()
    for name, value in profile_parameters(project_dir).items():
        builder = builder.config(name, value)
    return builder.getOrCreate()


def export(out: Path, schemas: list[str]) -> list[str]:
    """Every relation of each schema as the Parquet folder out/<schema>/<relation>; their
    names (schema.relation)."""
    spark = spark_session()
    if out.exists():
        shutil.rmtree(out)
    exported = []
    for schema in schemas:
        names = sorted(row.tableName for row in spark.sql(f"show tables in {schema}").collect() if not row.isTemporary)
        (out / schema).mkdir(parents=True)
        for name in names:
            frame = spark.table(f"{schema}.{name}")
            columns = [
                f"cast(`{field.name}` as timestamp_ntz) as `{field.name}`"
                if field.dataType.typeName() == "timestamp"
                else f"`{field.name}`"
                for field in frame.schema.fields
            ]
            frame.selectExpr(*columns).coalesce(1).write.parquet(str(out / schema / name))
            exported.append(f"{schema}.{name}")
            print(f"exported {schema}.{name}")
    spark.stop()
    return exported


def load(export_dir: Path, like: Path, into: Path, schemas: list[str]) -> list[str]:
    """Each exported relation into the DuckDB file `into`, typed as in `like`."""
    import duckdb

    into.unlink(missing_ok=True)
    loaded = []
    with duckdb.connect(str(into)) as con:
        con.execute(f"attach '{like}' as reference (read_only)")
        for schema in schemas:
            loaded += _load_schema(con, export_dir / schema, schema)
    return loaded


def _load_schema(con: Any, export_dir: Path, schema: str) -> list[str]:
    """The relations exported from one schema (export_dir/<relation>), typed as in `like`."""
    loaded = []
    con.execute(f"create schema {schema}")
    for folder in sorted(path for path in export_dir.iterdir() if path.is_dir()):
        name = folder.name
        reference_columns = con.execute(
            "select column_name, data_type from duckdb_columns()"
            " where database_name = 'reference' and schema_name = ? and table_name = ? order by column_index",
            [schema, name],
        ).fetchall()
        source = f"read_parquet('{folder}/*.parquet')"
        if reference_columns:
            select = ", ".join(
                f'cast("{column}" as {data_type}) as "{column}"' for column, data_type in reference_columns
            )
        else:
            select = "*"
        con.execute(f'create table {schema}."{name}" as select {select} from {source}')
        loaded.append(name)
        print(f"loaded {schema}.{name}")
    return loaded


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    export_parser = commands.add_parser("export", help="Spark relations to Parquet (run in .venv-spark)")
    export_parser.add_argument("--out", type=Path, default=PROJECT_DIR / "target" / "spark" / "export")
    export_parser.add_argument("--schema", nargs="+", default=["staging"], help="schemas (default: staging)")
    load_parser = commands.add_parser("load", help="the Parquet export into a DuckDB file (run in .venv)")
    load_parser.add_argument("--export", type=Path, default=PROJECT_DIR / "target" / "spark" / "export")
    load_parser.add_argument("--like", type=Path, required=True, help="the DuckDB build to take the types from")
    load_parser.add_argument("--into", type=Path, default=PROJECT_DIR / "target" / "spark" / "staging.duckdb")
    load_parser.add_argument("--schema", nargs="+", default=["staging"], help="schemas (default: staging)")
    args = parser.parse_args(argv)
    if args.command == "export":
        export(args.out, args.schema)
    else:
        load(args.export, args.like, args.into, args.schema)
    return 0


if __name__ == "__main__":
    sys.exit(main())
