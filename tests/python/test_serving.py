"""The serving copy: what a build publishes for readers, and that readers can use it.

"Published for readers (BI tools, analysts), after every successful build and never
after a failed one: a serving copy of the marts in SERVING_DIR as customer_value.duckdb
(marts only, no personal data, no raw rows, readable by DuckDB 1.4 and later) and as one
Parquet file per mart relation under parquet/, each replaced atomically, so that a reader
never waits for a build and never sees half of one."

Real DuckDB 1.x clients read the files: the Python package duckdb at the oldest 1.4
release and the newest 1.5 release, and the Node.js package @duckdb/node-api, each
installed from its registry on first use into .venv-clients/ (kept between runs).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from dbt_helpers import PROJECT_DIR, DbtResult, assert_build_ok, generate, run_dbt

CLIENTS_DIR = PROJECT_DIR / ".venv-clients"
PYTHON_CLIENTS = ("1.4.0", "1.5.6")
NODE_CLIENT = "1.5.6-r.1"  # @duckdb/node-api, on DuckDB 1.5.6
READER = Path(__file__).with_name("serving_reader.py")
NODE_READER = Path(__file__).with_name("serving_reader.cjs")
SERVING_FILE = "customer_value.duckdb"
EXPECTED_MARTS = {"customer_segments", "clv_model_parameters"}


# --- clients -------------------------------------------------------------------------


def python_client(version: str) -> Path:
    """The python of a venv holding only duckdb==version (created on first use)."""
    venv = CLIENTS_DIR / f"duckdb-{version}"
    python = venv / "bin" / "python"
    stamp = venv / ".installed"
    if not stamp.exists():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", f"duckdb=={version}"],
            check=True,
        )
        stamp.write_text(version)
    return python


def node_client() -> Path:
    """A folder with @duckdb/node-api==NODE_CLIENT in node_modules (installed on first use)."""
    npm = shutil.which("npm")
    assert shutil.which("node") and npm, "Node.js and npm are needed to check the serving copy with @duckdb/node-api"
    folder = CLIENTS_DIR / f"node-api-{NODE_CLIENT}"
    stamp = folder / ".installed"
    if not stamp.exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        (folder / "package.json").write_text('{"private": true}\n')
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--save-exact", f"@duckdb/node-api@{NODE_CLIENT}"],
            cwd=folder,
            check=True,
            capture_output=True,
        )
        stamp.write_text(NODE_CLIENT)
    return folder


def run_python_reader(version: str, spec: dict) -> dict:
    completed = subprocess.run(
        [str(python_client(version)), str(READER), "read", json.dumps(spec)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(completed.stdout)


# --- what a build left ---------------------------------------------------------------


def mart_relations(result: DbtResult) -> list[str]:
    """The relations of the project's models in schema marts, from the build's manifest."""
    manifest = json.loads((result.database.parent / "target" / "manifest.json").read_text())
    return sorted(
        node["alias"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and node["schema"] == "marts"
        and node["config"]["materialized"] != "ephemeral"
    )


def reader_spec(result: DbtResult, *databases: Path) -> dict:
    return {
        "databases": [str(path) for path in databases],
        "parquet_dir": str(result.serving_dir / "parquet"),
        "relations": mart_relations(result),
    }


def published_files(serving_dir: Path) -> dict[str, tuple]:
    """Every file in the serving folder: (inode, mtime, sha256); a replaced file changes all three."""
    return {
        str(path.relative_to(serving_dir)): (
            path.stat().st_ino,
            path.stat().st_mtime_ns,
            hashlib.sha256(path.read_bytes()).hexdigest(),
        )
        for path in sorted(serving_dir.rglob("*"))
        if path.is_file()
    }


def storage_version(path: Path) -> str:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(
            "select tags['storage_version'] from duckdb_databases() where database_name = current_database()"
        ).fetchall()[0][0]


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("raw_serving"), "--customers", "500", "--seed", "5")


@pytest.fixture(scope="module")
def build(raw, tmp_path_factory):
    result = run_dbt(raw, tmp_path_factory.mktemp("build_serving"), "--warn-error")
    assert_build_ok(result)
    assert "Serving copy: publishing" in result.output
    return result


# --- the copy ------------------------------------------------------------------------


def test_marts_are_found_in_the_graph(build):
    assert EXPECTED_MARTS <= set(mart_relations(build))


def test_serving_folder_holds_the_database_and_one_parquet_file_per_mart(build):
    marts = mart_relations(build)
    assert sorted(published_files(build.serving_dir)) == sorted(
        [SERVING_FILE] + [f"parquet/{name}.parquet" for name in marts]
    ), "no temporary file may be left behind"


def test_serving_database_holds_exactly_the_marts_with_their_rows(build):
    marts = mart_relations(build)
    with duckdb.connect() as con:
        con.execute(f"attach '{build.serving_dir / SERVING_FILE}' as serving (read_only)")
        con.execute(f"attach '{build.database}' as working (read_only)")
        tables = con.execute(
            "select table_schema, table_name, table_type from information_schema.tables where table_catalog = 'serving'"
        ).fetchall()
        assert sorted(tables) == [("marts", name, "BASE TABLE") for name in marts]
        for name in marts:
            for left, right in (("serving", "working"), ("working", "serving")):
                missing = con.execute(
                    f'select count(*) from (select * from {left}.marts."{name}" except all '
                    f'select * from {right}.marts."{name}")'
                ).fetchall()[0][0]
                assert missing == 0, f"{name}: {missing} rows in {left} are not in {right}"
            count = con.execute(f'select count(*) from serving.marts."{name}"').fetchall()[0][0]
            assert count == con.execute(f'select count(*) from working.marts."{name}"').fetchall()[0][0]
        assert con.execute('select count(*) from serving.marts."customer_segments"').fetchall()[0][0] == 500


def test_serving_database_has_no_personal_data_and_no_raw_rows(build):
    with duckdb.connect(str(build.serving_dir / SERVING_FILE), read_only=True) as con:
        columns = con.execute("select table_name, column_name, data_type from information_schema.columns").fetchall()
        names = {column for _, column, _ in columns}
        assert "email" not in names
        assert not {name for name in names if "raw" in name or "json" in name}
        for table, column, data_type in columns:
            if data_type == "VARCHAR":
                rows = con.execute(
                    f'select count(*) from marts."{table}" where "{column}" like \'%@%\' or trim("{column}") like \'{{%\''
                ).fetchall()[0][0]
                assert rows == 0, f"{table}.{column} holds email addresses or JSON rows"


def test_every_mart_and_column_carries_its_description_in_both_files(build):
    """persist_docs writes the YAML descriptions as comments; the serving copy keeps them."""
    for database in (build.database, build.serving_dir / SERVING_FILE):
        with duckdb.connect(str(database), read_only=True) as con:
            tables = con.execute(
                "select table_name, comment from duckdb_tables() where schema_name = 'marts'"
            ).fetchall()
            columns = con.execute(
                "select table_name, column_name, comment from duckdb_columns() where schema_name = 'marts'"
            ).fetchall()
        assert tables and all(comment for _, comment in tables), (database, tables)
        assert columns and all(comment for _, _, comment in columns), (
            database,
            [(table, column) for table, column, comment in columns if not comment],
        )


def test_marts_have_bi_friendly_types(build):
    """Counts are BIGINT (no HUGEINT, which Parquet and node turn into DOUBLE or text),
    money is one type, DECIMAL(18,2), and every mart says when it was built."""
    money = {
        "customer_segments": ["historical_clv", "predicted_clv", "crv", "realized_crv", "net_revenue_to_date"],
        "segment_summary": ["historical_clv", "predicted_clv", "crv", "mean_predicted_clv"],
        "segment_migrations": ["from_predicted_clv", "to_crv"],
    }
    types = {
        (table, column): data_type
        for table, column, data_type in build.query(
            "select table_name, column_name, data_type from information_schema.columns where table_schema = 'marts'"
        )
    }
    assert not [key for key, data_type in types.items() if data_type in ("HUGEINT", "UHUGEINT")]
    for table, columns in money.items():
        for column in columns:
            assert types[(table, column)] == "DECIMAL(18,2)", (table, column)
    for table in {table for table, _ in types}:
        assert types[(table, "built_at")] == "TIMESTAMP", table


def test_parquet_files_have_the_rows_of_the_marts(build):
    with duckdb.connect(str(build.database), read_only=True) as con:
        for name in mart_relations(build):
            path = build.serving_dir / "parquet" / f"{name}.parquet"
            expected = con.execute(f'select count(*) from marts."{name}"').fetchall()[0][0]
            assert con.execute(f"select count(*) from read_parquet('{path}')").fetchall()[0][0] == expected
            assert pq.read_table(path).num_rows == expected


def test_both_files_are_in_the_storage_format_of_duckdb_1_4(build):
    assert storage_version(build.serving_dir / SERVING_FILE) == "v1.4.0+"
    assert storage_version(build.database) == "v1.4.0+"


@pytest.mark.parametrize("version", PYTHON_CLIENTS)
def test_duckdb_1_x_python_client_reads_the_copy_and_the_working_database(build, version):
    serving = build.serving_dir / SERVING_FILE
    read = run_python_reader(version, reader_spec(build, serving, build.database))
    assert read["version"] == version
    with duckdb.connect(str(build.database), read_only=True) as con:
        expected = {
            name: con.execute(f'select count(*) from marts."{name}"').fetchall()[0][0] for name in mart_relations(build)
        }
    for source in [*read["databases"].values(), read["parquet"]]:
        assert "error" not in source, source
        assert {name: rows for name, (rows, _) in source["relations"].items()} == expected
    # Same values, row for row, in the copy and in the working database.
    assert read["databases"][str(serving)] == read["databases"][str(build.database)]


def test_duckdb_node_api_reads_the_copy_and_the_working_database(build):
    folder = node_client()
    serving = build.serving_dir / SERVING_FILE
    completed = subprocess.run(
        ["node", str(NODE_READER), str(folder), json.dumps(reader_spec(build, serving, build.database))],
        check=False,
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    read = json.loads(completed.stdout)
    assert read["version"] == "v" + NODE_CLIENT.split("-")[0]
    with duckdb.connect(str(build.database), read_only=True) as con:
        expected = {
            name: con.execute(f'select count(*) from marts."{name}"').fetchall()[0][0] for name in mart_relations(build)
        }
    assert read["databases"] == {str(serving): expected, str(build.database): expected}
    assert read["parquet"] == expected


def test_a_run_that_leaves_marts_out_publishes_nothing(build, raw, tmp_path):
    before = published_files(build.serving_dir)
    result = run_dbt(raw, build.database.parent, "--select", "int_analysis_settings", command="run")
    assert_build_ok(result)
    assert "Serving copy not published: this run did not build every mart" in result.output
    assert f"The previous copy in {build.serving_dir} is left as it was." in result.output
    assert published_files(build.serving_dir) == before
    # A failed run into a folder where nothing was ever published (a new database: the
    # settings model finds no staged transactions) does not speak of a previous copy.
    fresh = run_dbt(raw, tmp_path / "fresh", "--select", "int_analysis_settings", command="run")
    assert fresh.returncode != 0
    assert f"Nothing has been published in {fresh.serving_dir} yet." in fresh.output
    assert "previous copy" not in fresh.output


# --- readers during builds -----------------------------------------------------------


def test_readers_never_see_a_partial_copy_nor_a_failed_build(raw, tmp_path_factory):
    """DuckDB 1.4 readers loop over the copy while two runs publish and one build fails.

    Each successful run analyses another as_of_date, so the copies differ. One reader
    opens the database file and the Parquet files anew on every pass; every answer it
    gets must be, row for row, one that a complete build published. Another keeps the
    connection it opened before the first replacement and must keep reading that copy.
    Neither gets an error; the failed build (a data test fails) leaves every published
    file as it was.
    """
    work = tmp_path_factory.mktemp("build_concurrent")
    reader = python_client(PYTHON_CLIENTS[0])

    published: dict[str, list] = {"duckdb": [], "parquet": []}

    def build_and_record(as_of_date: str, command: str) -> DbtResult:
        result = run_dbt(raw, work, "--vars", json.dumps({"as_of_date": as_of_date}), command=command)
        assert_build_ok(result)
        serving = result.serving_dir / SERVING_FILE
        read = run_python_reader(PYTHON_CLIENTS[0], reader_spec(result, serving, result.database))
        assert read["databases"][str(serving)] == read["databases"][str(result.database)]
        published["duckdb"].append(read["databases"][str(serving)]["relations"])
        published["parquet"].append(read["parquet"]["relations"])
        return result

    first = build_and_record("2026-06-30", "build")  # loads the seeds too
    stop = work / "stop"
    answers_files = {mode: work / f"answers-{mode}.jsonl" for mode in ("loop", "hold")}
    readers = [
        subprocess.Popen(
            [
                str(reader),
                str(READER),
                mode,
                json.dumps(
                    {**reader_spec(first, first.serving_dir / SERVING_FILE), "stop": str(stop), "out": str(out)}
                ),
            ]
        )
        for mode, out in answers_files.items()
    ]
    answers_file = answers_files["loop"]
    try:
        # `dbt run` publishes too (and takes half the time of `dbt build`).
        build_and_record("2026-03-31", "run")

        before = published_files(first.serving_dir)
        # The marts are rebuilt, but a data test fails: a tenth of the transactions name
        # no known customer, above max_rejected_share, and --warn-error makes that fail.
        failing_raw = work / "raw_failing"
        shutil.copytree(raw, failing_raw, ignore=shutil.ignore_patterns("_truth"))
        with duckdb.connect() as con:
            con.execute(
                f"create table t as select * replace (case when hash(transaction_id) % 10 = 0"
                f" then 'unknown-' || customer_id else customer_id end as customer_id)"
                f" from read_parquet('{raw / 'transactions.parquet'}')"
            )
            con.execute(f"copy t to '{failing_raw / 'transactions.parquet'}' (format parquet)")
        failed = run_dbt(failing_raw, work, "--warn-error", "--vars", json.dumps({"as_of_date": "2025-12-31"}))
        assert failed.returncode != 0
        assert "Serving copy not published: " in failed.output and "rejected_share" in failed.output
        assert published_files(first.serving_dir) == before

        build_and_record("2025-12-31", "run")
        # A few more answers after the last publish.
        answered = len(answers_file.read_text().splitlines())
        deadline = time.monotonic() + 60
        while len(answers_file.read_text().splitlines()) < answered + 6 and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop.touch()
        for process in readers:
            process.wait(timeout=120)
    assert [process.returncode for process in readers] == [0, 0]

    answers = [json.loads(line) for path in answers_files.values() for line in path.read_text().splitlines()]
    errors = [answer for answer in answers if "error" in answer]
    assert not errors, errors[:5]
    assert len(answers) >= 30
    assert len({json.dumps(p, sort_keys=True) for p in published["duckdb"]}) == 3, "the three builds differ"
    for answer in answers:
        if answer["kind"] == "held":
            # A connection opened before the first replacement keeps reading the file it opened.
            assert answer["relations"] == published["duckdb"][0]
        elif answer["kind"] == "duckdb":
            # The database file is one snapshot: all its relations from the same build.
            assert answer["relations"] in published["duckdb"], answer
        else:
            # Each Parquet file is replaced atomically on its own (a reader between two
            # renames can see one relation of the new build and another of the old), so
            # each file must hold exactly what one complete build published.
            for name, fingerprint in answer["relations"].items():
                assert fingerprint in [build[name] for build in published["parquet"]], (name, answer)
    seen = {json.dumps(answer["relations"], sort_keys=True) for answer in answers if answer["kind"] == "duckdb"}
    assert len(seen) >= 2, "the reader saw the copy replaced"
