"""Own data, bad data, bad settings: every failure says what to do in one line.

One test per realistic mistake (issue 9). Each runs `dbt build` as a user would and
checks the message the user gets: one line naming what is wrong and what to do, and
no Python traceback.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from dbt_helpers import DBT, PROJECT_DIR, DbtResult, assert_build_ok, generate, rewrite_parquet, run_dbt


@pytest.fixture(scope="module")
def small_raw(tmp_path_factory) -> Path:
    """300 generated customers, every table, no faults: the starting point of each mistake."""
    return generate(tmp_path_factory.mktemp("raw_small"), "--customers", "300", "--seed", "3")


def copy_raw(raw: Path, to: Path) -> Path:
    shutil.copytree(raw, to, ignore=shutil.ignore_patterns("_truth"))
    return to


def line_with(result: DbtResult, text: str) -> str:
    """The one output line holding `text`; the build failed and printed no traceback."""
    assert result.returncode != 0, result.output[-3000:]
    assert "Traceback" not in result.output, result.output[-5000:]
    lines = [line for line in result.output.splitlines() if text in line]
    assert lines, result.output[-5000:]
    return lines[0].strip()


def relations_in(database: Path) -> list[str]:
    if not database.exists():
        return []
    with duckdb.connect(str(database), read_only=True) as con:
        return [row[0] for row in con.execute("select table_name from information_schema.tables").fetchall()]


# --- 1. Settings checked before any model runs --------------------------------------


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        (
            "{high_clv_percentile: 2}",
            (
                "Setting high_clv_percentile = 2 is not allowed: it must be a number strictly between 0 and 1"
                " (a percentile rank)."
            ),
        ),
        (
            "{annual_discount_rate: -1}",
            "Setting annual_discount_rate = -1 is not allowed: it must be a number of at least 0 (an annual rate).",
        ),
        (
            "{clv_horizon_months: 12.5}",
            "Setting clv_horizon_months = 12.5 is not allowed: it must be an integer of at least 0 (months).",
        ),
        (
            "{as_of_date: 'end of June'}",
            (
                "Setting as_of_date = 'end of June' is not allowed: it must be empty ('', the last transaction day)"
                " or an ISO date such as 2025-06-30."
            ),
        ),
        ("{raw_format: xlsx}", "Setting raw_format = 'xlsx' is not allowed: it must be parquet or csv."),
        (
            "{reporting_currency: XYZ}",
            (
                "Setting reporting_currency = 'XYZ' is not allowed: it must be a currency listed in"
                " seeds/currency_rates.csv (AUD, CAD, CHF, EUR, GBP, JPY, SEK, USD)."
            ),
        ),
        (
            "{high_clv_percentil: 0.8}",
            (
                "Setting high_clv_percentil (given with --vars) is not a setting of this project;"
                " did you mean high_clv_percentile? Every setting: docs/settings.md."
            ),
        ),
        (
            "{social_knowledge_weight: 0, social_participation_weight: 0, social_reach_weight: 0}",
            (
                "Settings social_knowledge_weight, social_participation_weight, social_reach_weight are all 0:"
                " at least one must be above 0"
            ),
        ),
    ],
)
def test_wrong_setting_stops_the_run_before_any_model(tmp_path, setting, expected):
    # No raw data at all: the settings are checked before anything is read or built.
    result = run_dbt(tmp_path / "no_raw_data", tmp_path / "build", "--vars", setting)
    line = line_with(result, expected)
    assert "docs/settings.md" in line
    assert relations_in(result.database) == []


def test_as_of_date_before_the_data_says_where_the_data_starts(tmp_path, small_raw):
    result = run_dbt(small_raw, tmp_path / "build", "--vars", "{as_of_date: 2001-01-31}", unit_tests=True)
    line = line_with(result, "Setting as_of_date = 2001-01-31 is before the data: the first transaction is on")
    assert "Use a date from" in line and "or leave as_of_date empty" in line
    # Stopped where the data became known: no unit test or intermediate model ran into it.
    assert "Conversion Error" not in result.output
    assert "unit_test" not in result.output.split("Completed with")[-1]
    assert "int_analysis_settings" not in relations_in(result.database)


# --- 2. Input errors that say what to do ---------------------------------------------


def test_empty_customers_file_names_customers(tmp_path, small_raw):
    raw = copy_raw(small_raw, tmp_path / "raw")
    rewrite_parquet(raw / "customers.parquet", "select * from t limit 0")
    result = run_dbt(raw, tmp_path / "build")
    line = line_with(result, "customers.parquet' has no rows")
    assert line == (
        f"Raw file '{raw}/customers.parquet' has no rows, but customers is a required table:"
        " export it again with its rows."
    )
    # Found before any model runs: the run's only error, nothing skipped.
    assert "Runtime Error in operation customer_value-on-run-start" in result.output and " SKIP " not in result.output


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def corrupt_data_pages(path: Path) -> None:
    """Scramble the middle of the data pages, leaving the footer intact (metadata still reads)."""
    data = bytearray(path.read_bytes())
    footer_length = int.from_bytes(data[-8:-4], "little")
    data_end = len(data) - 8 - footer_length
    for i in range(data_end // 4, data_end * 3 // 4):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (truncate, "No magic bytes found at end of file"),
        (corrupt_data_pages, "Snappy decompression failure"),
    ],
)
def test_unreadable_parquet_is_named_with_re_export(tmp_path, small_raw, damage, reason):
    raw = copy_raw(small_raw, tmp_path / "raw")
    damage(raw / "transactions.parquet")
    result = run_dbt(raw, tmp_path / "build")
    line = line_with(result, f"Raw file '{raw}/transactions.parquet' cannot be read as Parquet (")
    assert reason in line
    assert line.endswith(
        "it is truncated, corrupted or not Parquet. Export transactions again (CSV files: set raw_format: csv)."
    )


def test_column_type_not_accepted_lists_the_accepted_types(tmp_path, small_raw):
    raw = copy_raw(small_raw, tmp_path / "raw")
    rewrite_parquet(raw / "transactions.parquet", "select * replace (cast(amount as varchar) as amount) from t")
    result = run_dbt(raw, tmp_path / "build")
    line = line_with(result, "column 'amount' has type VARCHAR")
    assert line == (
        f"Raw file '{raw}/transactions.parquet': column 'amount' has type VARCHAR, but the contract says decimal;"
        " accepted types: DECIMAL, DOUBLE, FLOAT, REAL or an integer type. Export the column as one of them,"
        " or export CSV files and set raw_format: csv."
    )


def test_locked_database_names_the_file_and_the_serving_copy(tmp_path, small_raw):
    work = tmp_path / "build"
    work.mkdir()
    database = work / "test.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('ready', flush=True); time.sleep(300)",
            str(database),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        result = run_dbt(small_raw, work)
    finally:
        holder.kill()
        holder.wait()
    line = line_with(result, "is in use by another program")
    assert line == (
        f"The database file '{database}' is in use by another program ({Path(sys.executable).resolve()},"
        f" PID {holder.pid}), and DuckDB lets only one program write it. Close that program (or its connection)"
        " and build again. BI tools and notebooks should open the serving copy"
        " (data/serving/customer_value.duckdb in the project folder), not the working database."
    )


def test_build_from_another_folder_uses_paths_in_the_project(tmp_path):
    # A copy of the project with its demo data where the defaults say: data/demo.
    project = tmp_path / "project"
    shutil.copytree(
        PROJECT_DIR,
        project,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "target", "logs", "data", "dbt_packages", "__pycache__", ".pytest_cache", "*.duckdb"
        ),
    )
    generate(project / "data" / "demo", "--customers", "200", "--seed", "9")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in {"RAW_DATA_DIR", "DBT_DUCKDB_PATH", "DBT_PROFILES_DIR"}}
    completed = subprocess.run(
        [DBT, "build", "--project-dir", str(project), "--profiles-dir", str(project)],
        check=False,
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
    )
    assert_build_ok(
        DbtResult(
            completed.returncode, completed.stdout + completed.stderr, project / "data", project / "data" / "serving"
        )
    )
    with duckdb.connect(str(project / "data" / "customer_value.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from marts.customer_segments").fetchall() == [(200,)]
    assert list(elsewhere.iterdir()) == []


# --- 3. Rejected rows visible ---------------------------------------------------------


@pytest.fixture(scope="module")
def dollar_amounts_raw(tmp_path_factory) -> tuple[Path, int, int]:
    """CSV exports where about 3% of the purchase amounts are written like `$17.50`."""
    raw = generate(tmp_path_factory.mktemp("raw_dollars"), "--customers", "300", "--seed", "4", "--format", "csv")
    path = raw / "transactions.csv"
    with duckdb.connect() as con:
        con.execute(
            "create table transactions as select * from read_csv(?, header = true, all_varchar = true)", [str(path)]
        )
        dollars = con.execute(
            "update transactions set amount = '$' || amount"
            " where transaction_type = 'purchase' and hash(transaction_id) % 33 = 0"
        ).fetchall()[0][0]
        rows = con.execute("select count(*) from transactions").fetchall()[0][0]
        con.execute(f"copy transactions to '{path}' (header, format csv)")
    assert 0 < dollars < 0.05 * rows
    return raw, rows, dollars


def test_dollar_amounts_in_csv_are_quarantined_and_the_log_says_so(tmp_path, dollar_amounts_raw):
    raw, rows, dollars = dollar_amounts_raw
    result = run_dbt(raw, tmp_path / "build", "--vars", "{raw_format: csv}", "--warn-error")
    assert_build_ok(result)
    assert result.query(
        "select rejection_reason, count(*) from staging.stg_raw__rejected_rows where table_name = 'transactions'"
        " group by all"
    ) == [("malformed_value", dollars)]
    lines = [line.split("  ", 1)[-1].strip() for line in result.output.splitlines() if "  Raw " in line]
    expected = f"Raw transactions: {rows} read, {rows - dollars} staged, {dollars} rejected (malformed_value {dollars} in amount)."
    assert expected in lines
    assert any(line.startswith("Raw customers: 300 read, 300 staged, 0 rejected.") for line in lines)
    assert len([line for line in lines if line.startswith("Raw ") and " read, " in line]) == 8


def test_rejected_share_above_max_rejected_share_warns_and_keeps_the_serving_copy(tmp_path, dollar_amounts_raw):
    """Above max_rejected_share the build warns and BI users keep the last good copy: a first
    build of good data publishes; a build of the damaged export does not replace it (the
    message says so and how to accept the data); with accept_rejected_rows it publishes."""
    raw, rows, dollars = dollar_amounts_raw
    build = tmp_path / "build"
    good = copy_raw(raw, tmp_path / "good")
    with duckdb.connect() as con:
        con.execute(
            f"copy (select * replace (replace(amount, '$', '') as amount) from read_csv('{good / 'transactions.csv'}',"
            f" header = true, all_varchar = true)) to '{good / 'transactions.csv'}' (header)"
        )
    first = run_dbt(good, build, "--vars", "{raw_format: csv, max_rejected_share: 0.01}")
    assert_build_ok(first)
    serving_file = first.serving_dir / "customer_value.duckdb"
    published = serving_file.read_bytes()

    result = run_dbt(raw, build, "--vars", "{raw_format: csv, max_rejected_share: 0.01}")
    assert result.returncode == 0, result.output[-3000:]
    share = f"{100 * dollars / rows:.1f}%"
    assert (
        f"Raw transactions: {rows} read, {rows - dollars} staged, {dollars} rejected (malformed_value {dollars} in amount):"
        f" {share} rejected, above max_rejected_share 0.01 (test rejected_share_below_max_rejected_share warns)."
    ) in result.output
    assert "Warning in test rejected_share_below_max_rejected_share_stg_raw__table_inventory_" in result.output
    assert "WARN=1 " in result.output
    assert result.output.count("Serving copy not published: a raw table lost more than max_rejected_share (0.01)") == 1
    assert "scripts/build.sh --vars '{accept_rejected_rows: true}'" in result.output
    assert f"The previous copy in {first.serving_dir} is left as it was." in result.output
    assert serving_file.read_bytes() == published

    accepted = run_dbt(raw, build, "--vars", "{raw_format: csv, max_rejected_share: 0.01, accept_rejected_rows: true}")
    assert accepted.returncode == 0, accepted.output[-3000:]
    assert "publishing although a raw table lost more than max_rejected_share" in accepted.output
    assert serving_file.read_bytes() != published


def test_all_transactions_orphaned_stops_the_build_with_the_summary(tmp_path, small_raw):
    raw = copy_raw(small_raw, tmp_path / "raw")
    rewrite_parquet(raw / "transactions.parquet", "select * replace ('X' || customer_id as customer_id) from t")
    with duckdb.connect() as con:
        rows = con.execute(f"select count(*) from read_parquet('{raw / 'transactions.parquet'}')").fetchall()[0][0]
    result = run_dbt(raw, tmp_path / "build")
    line = line_with(result, "Raw transactions: ")
    assert line == (
        f"Raw transactions: {rows} read, 0 staged, {rows} rejected (orphan_reference {rows} in customer_id). transactions is a"
        " required table and 100.0% of its rows broke the contract, so the build stops: fix the export (the rows"
        " and their reasons are in staging.stg_raw__rejected_rows; README: bad rows)."
    )
    assert "Completed with 1 error" in result.output
    # The rows stay inspectable.
    assert result.query("select count(*) from staging.stg_raw__rejected_rows") == [(rows,)]


# --- 4. Privacy: a keyed hash, never an email or an unsalted hash --------------------

SECRET = "tést-key-0f3a9c1d7e5b2468-not-in-any-file"
EMAIL_PATTERN = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


def compiled(expression: str, tmp_path: Path) -> str:
    """The SQL a macro expression compiles to, from `dbt compile --inline`."""
    env = {**os.environ, "DBT_DUCKDB_PATH": str(tmp_path / "compile.duckdb"), "DBT_PROFILES_DIR": str(PROJECT_DIR)}
    completed = subprocess.run(
        [
            DBT,
            "compile",
            "--quiet",
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path / "logs"),
            "--inline",
            f"select {expression} as value",
        ],
        check=False,
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout.strip()


def python_email_key(secret: str, email: str) -> str:
    return hmac.new(secret.encode(), email.strip(" ").lower().encode(), hashlib.sha256).hexdigest()


def test_email_key_sql_is_rfc_2104_hmac_sha256(tmp_path):
    # The macro the staging model uses, run by DuckDB, against Python's hmac module.
    email_key_sql = compiled("{{ email_key('email') }}", tmp_path)
    keys = [
        "0123456789abcdef",  # short
        SECRET,  # non-ASCII
        "k" * 64,  # exactly one block
        "K" * 65,  # longer than a block: hashed first
        "clé " * 50,  # 250 bytes
    ]
    emails = ["ana.lopez@example.com", "  Mixed.Case@Example.COM ", "josé.müller@exämple.de", "用户@例子.中国"]
    with duckdb.connect() as con:
        for key in keys:
            con.execute("set variable customer_key_secret = ?", [key])
            for email in emails:
                got = con.execute(email_key_sql + " from (select ? as email)", [email])
                assert got.fetchall() == [(python_email_key(key, email),)], (key, email)
        con.execute("reset variable customer_key_secret")
        assert con.execute(email_key_sql + " from (select 'a@b.co' as email)").fetchall() == [(None,)]
    # RFC 4231 test vectors with binary keys (cases 1, 2 and 6), through hmac_sha256 itself.
    hmac_sql = compiled("{{ hmac_sha256('unhex(key_hex)', 'message') }}", tmp_path)
    vectors = [
        ("0b" * 20, b"Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        (
            "4a656665",
            b"what do ya want for nothing?",
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        ),
        (
            "aa" * 131,
            b"Test Using Larger Than Block-Size Key - Hash Key First",
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
        ),
    ]
    with duckdb.connect() as con:
        for key_hex, message, expected in vectors:
            sql = hmac_sql + " from (select ? as key_hex, ?::blob as message)"
            assert con.execute(sql, [key_hex, message]).fetchall() == [(expected,)]
            assert hmac.new(bytes.fromhex(key_hex), message, hashlib.sha256).hexdigest() == expected


def text_cells(result: DbtResult, schema: str) -> dict[str, list[str]]:
    """Every non-null value of every column of every relation in `schema`, as text."""
    cells: dict[str, list[str]] = {}
    columns = result.query(
        f"select table_name, column_name from information_schema.columns where table_schema = '{schema}'"
    )
    for table, column in columns:
        values = result.query(
            f'select cast("{column}" as varchar) from {schema}."{table}" where "{column}" is not null'
        )
        cells[f"{table}.{column}"] = [value for (value,) in values]
    return cells


def test_marts_publish_a_keyed_hash_and_no_email(tmp_path, small_raw, monkeypatch):
    monkeypatch.setenv("CUSTOMER_KEY_SECRET", SECRET)
    result = run_dbt(small_raw, tmp_path / "build", "--warn-error")
    assert_build_ok(result)
    with duckdb.connect() as con:
        raw_emails = dict(
            con.execute(
                f"select customer_id, email from read_parquet('{small_raw / 'customers.parquet'}')"
                " where email is not null"
            ).fetchall()
        )
    keys = dict(result.query("select customer_id, email_key from marts.customer_segments"))
    assert {customer: keys[customer] for customer in raw_emails} == {
        customer: python_email_key(SECRET, email) for customer, email in raw_emails.items()
    }
    # No published value is an email, or an unsalted SHA-256 / MD5 of one (as exported or cleaned).
    unsalted = set()
    for email in raw_emails.values():
        for variant in {email, email.strip().lower()}:
            unsalted |= {hashlib.sha256(variant.encode()).hexdigest(), hashlib.md5(variant.encode()).hexdigest()}
    cells = text_cells(result, "marts")
    assert "customer_segments.email_key" in cells and len(cells) > 50
    for column, values in cells.items():
        assert not [v for v in values if EMAIL_PATTERN.search(v)], column
        assert not [v for v in values if any(h in v.lower() for h in unsalted)], column
    # The secret is in no file the build wrote: compiled SQL, logs, the database.
    for path in (tmp_path / "build").rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_without_a_secret_the_key_is_null_and_the_build_says_so(tmp_path, small_raw, monkeypatch):
    monkeypatch.delenv("CUSTOMER_KEY_SECRET", raising=False)
    result = run_dbt(small_raw, tmp_path / "build", "--warn-error")
    assert_build_ok(result)
    assert result.query("select count(*), count(email_key) from marts.customer_segments") == [(300, 0)]
    assert "CUSTOMER_KEY_SECRET is not set (or the profile does not load customer_value.dbt_plugin), so email_key" in (
        result.output
    )
    columns = result.query("select column_name from information_schema.columns where table_schema = 'marts'")
    assert not [column for (column,) in columns if "sha256" in column]


# --- 5. Same input, same output -------------------------------------------------------


def test_a_bad_thread_count_is_named(tmp_path, small_raw, monkeypatch):
    monkeypatch.setenv("DUCKDB_THREADS", "two")
    result = run_dbt(small_raw, tmp_path, "--select", "int_analysis_settings")
    assert result.returncode != 0
    assert "DUCKDB_THREADS='two' is not a number of threads" in result.output
    assert "Traceback" not in result.output
