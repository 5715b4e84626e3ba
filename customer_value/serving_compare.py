"""Compare two serving folders' Parquet files: the same relations, each with the same
schema (column names, order, Arrow types, Parquet logical types) and the same rows.

    python -m customer_value.serving_compare data/serving target/spark-serving

Used to check that a Spark build publishes what a DuckDB build publishes on the same
data (docs/spark.md). Rows are compared exactly, as sorted lists, without the
build-time columns; with --tolerant, floating-point values may differ by 1e-9 relative
(absolute below 1 in size), the rule of customer_value.compare --tolerant for two
engines' builds (sums of doubles in another order differ in their last digit). The
build-time columns (customer_value.compare.BUILD_TIME_COLUMNS is not imported: this
runs in either virtual environment, with pyarrow alone).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import pyarrow.parquet as pq

BUILD_TIME_COLUMNS = ("built_at",)


#: Annotations that say what the physical type says already: DuckDB marks a BIGINT
#: (INTEGER) as INT64 (INT32) with the logical type Int(64 (32), signed), Spark writes
#: the bare physical type, which Parquet readers read as the same signed integer.
REDUNDANT_ANNOTATIONS = {
    ("INT64", "Int(bitWidth=64, isSigned=true)"),
    ("INT32", "Int(bitWidth=32, isSigned=true)"),
}


def logical_types(path: Path) -> list[str]:
    """Each column's Parquet physical and logical type, as one text."""
    schema = pq.ParquetFile(path).schema
    found = []
    for column in schema:
        logical = str(column.logical_type)
        if (column.physical_type, logical) in REDUNDANT_ANNOTATIONS:
            logical = "None"
        found.append(f"{column.name}: {column.physical_type} {logical}")
    return found


#: Two engines' floating-point values agree within this (relative; absolute below 1).
FLOAT_TOLERANCE = 1e-9


def values_agree(one: object, two: object) -> bool:
    """Equal, or floating-point values within FLOAT_TOLERANCE, lists and structs
    element by element."""
    if isinstance(one, float) and isinstance(two, float):
        return math.isclose(one, two, rel_tol=FLOAT_TOLERANCE, abs_tol=FLOAT_TOLERANCE) or (
            math.isnan(one) and math.isnan(two)
        )
    if isinstance(one, list) and isinstance(two, list):
        return len(one) == len(two) and all(values_agree(a, b) for a, b in zip(one, two, strict=True))
    if isinstance(one, dict) and isinstance(two, dict):
        return one.keys() == two.keys() and all(values_agree(one[k], two[k]) for k in one)
    return one == two


def compare_file(before: Path, after: Path, *, tolerant: bool = False) -> list[str]:
    """What differs between two Parquet files of the same relation (nothing: [])."""
    differences = []
    schema_before, schema_after = pq.read_schema(before), pq.read_schema(after)
    fields_before = [(field.name, str(field.type)) for field in schema_before]
    fields_after = [(field.name, str(field.type)) for field in schema_after]
    if fields_before != fields_after:
        differences.append(f"Arrow schema: {fields_before} != {fields_after}")
    types_before, types_after = logical_types(before), logical_types(after)
    if types_before != types_after:
        pairs = [(b, a) for b, a in zip(types_before, types_after, strict=False) if b != a]
        differences.append(f"Parquet types: {pairs[:5]}")
    if differences:
        return differences
    columns = [name for name, _ in fields_before if name not in BUILD_TIME_COLUMNS]
    rows_before = pq.read_table(before, columns=columns).to_pylist()
    rows_after = pq.read_table(after, columns=columns).to_pylist()
    if len(rows_before) != len(rows_after):
        return [f"rows: {len(rows_before)} != {len(rows_after)}"]

    def key(row: dict) -> tuple:
        # floats left out of the order when tolerant: their last digits may differ
        return tuple(
            (value is None, "" if tolerant and isinstance(value, float) else str(value)) for value in row.values()
        )

    agree = values_agree if tolerant else (lambda one, two: one == two)
    mismatched = [
        (b, a)
        for b, a in zip(sorted(rows_before, key=key), sorted(rows_after, key=key), strict=True)
        if not agree(b, a)
    ]
    if mismatched:
        differences.append(f"{len(mismatched)} row(s) differ, first: {mismatched[0]}")
    return differences


def compare_dirs(before: Path, after: Path, *, tolerant: bool = False) -> dict[str, list[str]]:
    """Relation -> differences, for every Parquet file in either folder's parquet/."""
    names = sorted({path.stem for folder in (before, after) for path in (folder / "parquet").glob("*.parquet")})
    found = {}
    for name in names:
        files = [folder / "parquet" / f"{name}.parquet" for folder in (before, after)]
        missing = [str(path) for path in files if not path.exists()]
        found[name] = [f"missing: {', '.join(missing)}"] if missing else compare_file(*files, tolerant=tolerant)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="a serving folder (holding parquet/)")
    parser.add_argument("after", type=Path, help="another serving folder")
    parser.add_argument("--tolerant", action="store_true", help="floating point within 1e-9 (two engines' builds)")
    args = parser.parse_args(argv)
    found = compare_dirs(args.before, args.after, tolerant=args.tolerant)
    for name, differences in found.items():
        print(f"{name}: {'identical' if not differences else 'DIFFERENT'}")
        for difference in differences:
            print(f"    {difference}")
    return 0 if found and not any(found.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
