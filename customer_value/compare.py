"""Bit-for-bit comparison of the relations two builds wrote.

A pure refactor must leave every mart unchanged; `python -m customer_value.compare
before.duckdb after.duckdb` says whether it did, relation by relation, and shows the
first rows that differ. The determinism tests use the same fingerprints.
"""

from __future__ import annotations

import argparse
import sys

import duckdb

#: Columns that differ between two builds of the same data by design.
BUILD_TIME_COLUMNS = ("built_at",)


def _rows_sql(con: duckdb.DuckDBPyConnection, schema: str, relation: str) -> str:
    """The relation's rows without the build-time columns, as a subquery."""
    columns = {
        name
        for (name,) in con.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
            [schema, relation],
        ).fetchall()
    }
    excluded = [column for column in BUILD_TIME_COLUMNS if column in columns]
    star = f"* exclude ({', '.join(excluded)})" if excluded else "*"
    return f'(select {star} from {schema}."{relation}")'


def relation_fingerprints(con: duckdb.DuckDBPyConnection, schema: str) -> dict[str, str]:
    """Row count and fingerprint of every relation in `schema`, without the build-time
    columns: the sum of the 64-bit hashes of its rows (bit for bit: a DOUBLE hashes its
    bits; a sum, so the order of the rows does not matter but a repeated row does)."""
    relations = con.execute(
        "select table_name from information_schema.tables where table_schema = ? order by table_name", [schema]
    ).fetchall()
    fingerprints = {}
    for (relation,) in relations:
        fingerprints[relation] = con.execute(
            "select count(*) || ' ' || coalesce(cast(sum(cast(hash(t) as hugeint)) as varchar), '')"
            f" from {_rows_sql(con, schema, relation)} as t"
        ).fetchall()[0][0]
    return fingerprints


def first_differences(
    before: duckdb.DuckDBPyConnection, after_path: str, schema: str, relation: str, limit: int = 5
) -> list[tuple]:
    """Up to `limit` rows of the relation that are in one build and not the other, each
    tagged 'before' or 'after'."""
    before.execute(f"attach '{after_path}' as after_build (read_only)")
    try:
        rows_before = _rows_sql(before, schema, relation)
        rows_after = rows_before.replace(f'from {schema}."', f'from after_build.{schema}."')
        return before.execute(
            f"(select 'before' as build, * from ({rows_before} except all {rows_after}) limit {limit})"
            f" union all (select 'after' as build, * from ({rows_after} except all {rows_before}) limit {limit})"
        ).fetchall()
    finally:
        before.execute("detach after_build")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", help="database file of the first build")
    parser.add_argument("after", help="database file of the second build")
    parser.add_argument("--schemas", nargs="*", default=["marts"], help="schemas to compare (default: marts)")
    args = parser.parse_args(argv)
    with duckdb.connect(args.before, read_only=True) as con:
        before = {schema: relation_fingerprints(con, schema) for schema in args.schemas}
    with duckdb.connect(args.after, read_only=True) as con:
        after = {schema: relation_fingerprints(con, schema) for schema in args.schemas}
    different = []
    for schema in args.schemas:
        for relation in sorted(set(before[schema]) | set(after[schema])):
            one, two = before[schema].get(relation), after[schema].get(relation)
            if one is not None and one == two:
                print(f"same       {schema}.{relation} ({one.split()[0]} rows)")
            elif one is None or two is None:
                print(f"only in {'after ' if one is None else 'before'} {schema}.{relation}")
            else:
                print(f"DIFFERENT  {schema}.{relation}: before {one}, after {two}")
                different.append((schema, relation))
    with duckdb.connect(args.before, read_only=True) as con:
        for schema, relation in different:
            try:
                rows = first_differences(con, args.after, schema, relation)
            except duckdb.BinderException as error:
                # Another number of columns (a column added or removed): no rows to set side by side.
                print(f"  {schema}.{relation}: other columns, rows not listed ({str(error).splitlines()[0]})")
                continue
            for row in rows:
                print(f"  {schema}.{relation} {row}")
    identical = all(before[schema] == after[schema] for schema in args.schemas)
    print("identical" if identical else "different")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
