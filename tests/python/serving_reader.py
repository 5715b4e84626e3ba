"""A reader of the serving copy, run by test_serving.py under other DuckDB clients.

It imports nothing but the standard library and `duckdb`, so any client venv runs it:

    python serving_reader.py read SPEC    # one pass, prints a JSON object
    python serving_reader.py loop SPEC    # passes until SPEC's stop file exists
    python serving_reader.py hold SPEC    # the same through one connection kept open

SPEC is JSON: {"databases": [file, ...], "parquet_dir": folder, "relations": [name, ...]}
and, for loop, "stop" and "out" (a JSON-lines file, one line per answer). Each answer
says, per mart relation, how many rows it read and a hash of all of them (every row
fetched, so every value is decoded), or the error the client raised.

hold opens one connection to the first database at its start and reads through it on
every pass, as a BI tool that keeps its connection does: after the file is replaced it
must still answer with the data it opened. It runs in its own process because the
Python client shares one open database between all connections a process makes to the
same file: while any connection is open, a new duckdb.connect() reads the same copy.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time

import duckdb


def fingerprint(con, source: str) -> list:
    rows = con.execute(f"select * from {source} order by all").fetchall()
    return [len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()]


def read_database(path: str, relations: list[str], con=None) -> dict:
    own = con is None
    if own:
        con = duckdb.connect(path, read_only=True)
    try:
        return {name: fingerprint(con, f'marts."{name}"') for name in relations}
    finally:
        if own:
            con.close()


def read_parquet(folder: str, relations: list[str]) -> dict:
    con = duckdb.connect()
    try:
        return {
            name: fingerprint(con, "read_parquet('" + os.path.join(folder, name + ".parquet") + "')")
            for name in relations
        }
    finally:
        con.close()


def answer(kind: str, read, *args) -> dict:
    try:
        return {"kind": kind, "relations": read(*args)}
    except Exception as error:  # noqa: BLE001 - every failure is an answer the test counts
        return {"kind": kind, "error": f"{type(error).__name__}: {error}"}


def main() -> None:
    mode, spec = sys.argv[1], json.loads(sys.argv[2])
    relations = spec["relations"]
    if mode == "read":
        result = {"version": duckdb.__version__, "databases": {}, "parquet": None}
        for path in spec["databases"]:
            result["databases"][path] = answer("duckdb", read_database, path, relations)
        if spec.get("parquet_dir"):
            result["parquet"] = answer("parquet", read_parquet, spec["parquet_dir"], relations)
        print(json.dumps(result))
        return

    database = spec["databases"][0]
    held = duckdb.connect(database, read_only=True) if mode == "hold" else None
    deadline = time.monotonic() + spec.get("timeout_seconds", 900)
    with open(spec["out"], "w") as out:
        while not os.path.exists(spec["stop"]) and time.monotonic() < deadline:
            if held is not None:
                lines = [answer("held", read_database, database, relations, held)]
            else:
                lines = [
                    answer("duckdb", read_database, database, relations),
                    answer("parquet", read_parquet, spec["parquet_dir"], relations),
                ]
            out.writelines(json.dumps(line) + "\n" for line in lines)
            out.flush()
            time.sleep(0.1)
    if held is not None:
        held.close()


if __name__ == "__main__":
    main()
