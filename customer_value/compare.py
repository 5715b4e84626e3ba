"""Bit-for-bit comparison of the relations two builds wrote.

A pure refactor must leave every mart unchanged; `python -m customer_value.compare
before.duckdb after.duckdb` says whether it did, relation by relation, and shows the
first rows that differ. The determinism tests use the same fingerprints.

Two engines' builds (DuckDB and Spark, docs/spark.md) are compared with `--tolerant`:
a relation that is not identical bit for bit is then compared row by row under issue
20's rule (`values_agree`): rows matched by key, integers, dates, timestamps, texts and
booleans equal, DECIMAL money equal to the cent, floating-point values within 1e-9
relative (absolute below 1 in size), lists and structs element by element. Each
relation is reported `same`, `tolerance` (equal within tolerance) or `DIFFERENT` with
its first differences.
"""

from __future__ import annotations

import argparse
import math
import sys
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

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


#: The tolerances of `tolerant_differences` (issue 20's rule for two engines' builds).
FLOAT_RELATIVE_TOLERANCE = 1e-9
MONEY_QUANTUM = Decimal("0.01")


def values_agree(one: Any, two: Any, rel_tol: float = FLOAT_RELATIVE_TOLERANCE) -> bool:
    """Whether two values of one column agree under the two-engine rule: floating-point
    values within `rel_tol` relative (absolute `rel_tol` near zero: below 1 in size),
    DECIMAL money equal to the cent, lists and structs element by element, everything
    else (integers, dates, timestamps, texts, booleans) equal. NULL agrees with NULL only."""
    if one is None or two is None:
        return one is None and two is None
    if isinstance(one, float) or isinstance(two, float):
        if not isinstance(one, int | float | Decimal) or not isinstance(two, int | float | Decimal):
            return False
        a, b = float(one), float(two)
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        if a == b:
            return True
        return abs(a - b) <= rel_tol * max(abs(a), abs(b), 1.0)
    if isinstance(one, Decimal) and isinstance(two, Decimal):
        return one.quantize(MONEY_QUANTUM, rounding=ROUND_HALF_EVEN) == two.quantize(
            MONEY_QUANTUM, rounding=ROUND_HALF_EVEN
        )
    if isinstance(one, list | tuple) and isinstance(two, list | tuple):
        return len(one) == len(two) and all(values_agree(x, y, rel_tol) for x, y in zip(one, two, strict=True))
    if isinstance(one, dict) and isinstance(two, dict):
        return one.keys() == two.keys() and all(values_agree(one[k], two[k], rel_tol) for k in one)
    return bool(one == two) and type(one) is type(two)


def _is_inexact(value: Any) -> bool:
    """A value that cannot be part of a key: floating point, DECIMAL, or a list or struct."""
    return isinstance(value, float | Decimal | list | tuple | dict)


def relation_key(columns: list[str], *versions: list[tuple]) -> list[int]:
    """Positions of the key columns of a relation's rows: the shortest run of its leading
    exact columns (integers, texts, dates, booleans) whose values are unique in each
    version, else every exact column (rows sharing it are then paired in sorted order)."""
    exact = [
        index
        for index, _ in enumerate(columns)
        if not any(_is_inexact(row[index]) for rows in versions for row in rows if row[index] is not None)
    ]
    for length in range(1, len(exact) + 1):
        key = exact[:length]
        if all(len({tuple(row[i] for i in key) for row in rows}) == len(rows) for rows in versions):
            return key
    return exact


def _sort_token(row: tuple) -> tuple:
    return tuple((value is None, repr(value)) for value in row)


def tolerant_differences(
    columns: list[str], rows_before: list[tuple], rows_after: list[tuple], limit: int = 5
) -> tuple[list[int], list[str]]:
    """The key (column positions) and up to `limit` differences between two versions of
    one relation under `values_agree`: rows matched by key, a row whose key is in one
    version only, or a column whose values disagree."""
    key = relation_key(columns, rows_before, rows_after)
    groups: dict[tuple, tuple[list[tuple], list[tuple]]] = {}
    for side, rows in enumerate((rows_before, rows_after)):
        for row in rows:
            groups.setdefault(tuple(row[i] for i in key), ([], []))[side].append(row)
    differences = []
    for key_values, (before, after) in sorted(groups.items(), key=lambda item: _sort_token(item[0])):
        named_key = ", ".join(f"{columns[i]}={value!r}" for i, value in zip(key, key_values, strict=True))
        before, after = sorted(before, key=_sort_token), sorted(after, key=_sort_token)
        if len(before) != len(after):
            differences.append(f"{named_key}: {len(before)} row(s) before, {len(after)} after")
        for one, two in zip(before, after, strict=False):
            for index, column in enumerate(columns):
                if not values_agree(one[index], two[index]):
                    differences.append(f"{named_key}: {column} {one[index]!r} before, {two[index]!r} after")
        if len(differences) >= limit:
            break
    return key, differences[:limit]


def relation_rows(con: duckdb.DuckDBPyConnection, schema: str, relation: str) -> tuple[list[str], list[tuple]]:
    """Column names and rows of a relation without the build-time columns."""
    cursor = con.execute(f"select * from {_rows_sql(con, schema, relation)}")
    return [column[0] for column in cursor.description], cursor.fetchall()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", help="database file of the first build")
    parser.add_argument("after", help="database file of the second build")
    parser.add_argument("--schemas", nargs="*", default=["marts"], help="schemas to compare (default: marts)")
    parser.add_argument(
        "--tolerant",
        action="store_true",
        help="two engines' builds: a relation that is not identical may still agree by the tolerant rule"
        " (values_agree: rows by key, money to the cent, floating point within 1e-9 relative)",
    )
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
                different.append((schema, relation))
            elif args.tolerant:
                with duckdb.connect(args.before, read_only=True) as con:
                    columns, rows_before = relation_rows(con, schema, relation)
                with duckdb.connect(args.after, read_only=True) as con:
                    columns_after, rows_after = relation_rows(con, schema, relation)
                if columns != columns_after:
                    print(f"DIFFERENT  {schema}.{relation}: columns {columns} before, {columns_after} after")
                    different.append((schema, relation))
                    continue
                key, differences = tolerant_differences(columns, rows_before, rows_after)
                key_names = ", ".join(columns[i] for i in key)
                if not differences:
                    print(f"tolerance  {schema}.{relation} ({len(rows_before)} rows by {key_names}, within tolerance)")
                else:
                    print(f"DIFFERENT  {schema}.{relation} ({len(rows_before)} rows before, {len(rows_after)} after)")
                    for difference in differences:
                        print(f"  {schema}.{relation} [{key_names}] {difference}")
                    different.append((schema, relation))
            else:
                print(f"DIFFERENT  {schema}.{relation}: before {one}, after {two}")
                different.append((schema, relation))
    if not args.tolerant:
        with duckdb.connect(args.before, read_only=True) as con:
            for schema, relation in different:
                if relation not in before[schema] or relation not in after[schema]:
                    continue
                try:
                    rows = first_differences(con, args.after, schema, relation)
                except duckdb.BinderException as error:
                    # Another number of columns (a column added or removed): no rows to set side by side.
                    print(f"  {schema}.{relation}: other columns, rows not listed ({str(error).splitlines()[0]})")
                    continue
                for row in rows:
                    print(f"  {schema}.{relation} {row}")
    identical = all(before[schema] == after[schema] for schema in args.schemas)
    if identical:
        print("identical")
    elif not different:
        print("equal within tolerance")
    else:
        print("different")
    return 0 if not different else 1


if __name__ == "__main__":
    sys.exit(main())
