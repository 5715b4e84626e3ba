"""A user's own CSV export, with the mistakes real exports make (issue 17).

One test per mistake: each feeds a CSV copy of generated data with that one mistake to
`dbt build`, as a user would, and checks what the user gets: a message naming the
column, the expected form and one offending value, printed once and before any model
runs; or the protection (rows quarantined with their column, the customers they touch
marked in the mart, the serving copy kept).
"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from dbt_helpers import DbtResult, assert_build_ok, generate, run_dbt

CSV = ("--vars", "{raw_format: csv}")


@pytest.fixture(scope="module")
def csv_raw(tmp_path_factory) -> Path:
    """300 generated customers exported as CSV, no faults: the export before the mistake."""
    return generate(tmp_path_factory.mktemp("raw_csv"), "--customers", "300", "--seed", "6", "--format", "csv")


def copy_raw(raw: Path, to: Path) -> Path:
    shutil.copytree(raw, to, ignore=shutil.ignore_patterns("_truth"))
    return to


def rewrite_csv(path: Path, select: str) -> None:
    """Replace the CSV file `path` by the rows of `select`, a query over its rows (all
    text) as table `t`."""
    with duckdb.connect() as con:
        con.execute(f"create table t as select * from read_csv('{path}', header = true, all_varchar = true)")
        con.execute(f"copy ({select}) to '{path}' (header, format csv)")


def csv_rows(path: Path, select: str = "select * from t") -> list[tuple]:
    with duckdb.connect() as con:
        con.execute(f"create table t as select * from read_csv('{path}', header = true, all_varchar = true)")
        return con.execute(select).fetchall()


def assert_stopped_before_any_model(result: DbtResult, message: str) -> str:
    """The build stopped in its pre-flight: `message` printed once, as the run's error,
    with no traceback, no macro stack, and no model run or skipped. Returns the line."""
    assert result.returncode != 0, result.output[-3000:]
    lines = [line.strip() for line in result.output.splitlines() if message in line]
    assert len(lines) == 1, result.output[-5000:]
    assert "Traceback" not in result.output
    assert "> in macro" not in result.output and "Compilation Error" not in result.output
    assert " SKIP " not in result.output and "ERROR creating" not in result.output
    assert "Runtime Error in operation customer_value-on-run-start" in result.output
    return lines[0]


# --- Timestamps ------------------------------------------------------------------------


def test_day_first_timestamps_stop_the_build_once_naming_column_format_and_value(tmp_path, csv_raw):
    """`30/06/2023 11:09:21` is never guessed: the build stops before any model with the
    column, the accepted forms, one value as written, and the setting that says which;
    with that setting the same file is staged whole, each timestamp as it was."""
    raw = copy_raw(csv_raw, tmp_path / "raw")
    path = raw / "transactions.csv"
    original = dict(csv_rows(path, "select transaction_id, transacted_at from t"))
    rewrite_csv(
        path,
        "select * replace (strftime(cast(transacted_at as timestamp), '%d/%m/%Y %H:%M:%S') as transacted_at) from t",
    )
    day_first = {value for (value,) in csv_rows(path, "select transacted_at from t")}

    result = run_dbt(raw, tmp_path / "build", *CSV)
    line = assert_stopped_before_any_model(result, "column transacted_at is not a timestamp")
    assert line.startswith(f"Raw file '{path}': column transacted_at is not a timestamp in ")
    example = line.split("e.g. '", 1)[1].split("'", 1)[0]
    assert example in day_first
    assert "ISO 8601" in line and "2023-06-30T11:09:21Z" in line
    assert "scripts/build.sh --vars '{raw_timestamp_formats: {transactions: \"%d/%m/%Y %H:%M:%S\"}}'" in line

    told = run_dbt(
        raw,
        tmp_path / "build",
        "--vars",
        '{raw_format: csv, raw_timestamp_formats: {transactions: "%d/%m/%Y %H:%M:%S"}}',
    )
    assert_build_ok(told)
    assert told.query("select count(*) from staging.stg_raw__rejected_rows") == [(0,)]
    staged = dict(
        told.query(
            "select transaction_id, strftime(transacted_at, '%Y-%m-%d %H:%M:%S') from staging.stg_raw__transactions"
        )
    )
    assert staged == original


def test_iso_timestamp_forms_are_read_without_a_setting(tmp_path, csv_raw):
    """ISO 8601 with `T` or a space, with Z or an offset (converted to UTC) or none, and
    date-only values are all read; none is rejected."""
    raw = copy_raw(csv_raw, tmp_path / "raw")
    path = raw / "transactions.csv"
    rows = csv_rows(path, "select transaction_id, transacted_at from t order by transaction_id")
    forms: dict[str, str] = {}
    expected: dict[str, str] = {}
    for index, (transaction_id, text) in enumerate(rows):
        at = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
        kind = index % 4
        if kind == 0:
            forms[transaction_id], expected[transaction_id] = at.strftime("%Y-%m-%dT%H:%M:%S"), text
        elif kind == 1:
            forms[transaction_id], expected[transaction_id] = at.strftime("%Y-%m-%dT%H:%M:%SZ"), text
        elif kind == 2:
            local = at + timedelta(hours=2)
            forms[transaction_id], expected[transaction_id] = local.strftime("%Y-%m-%d %H:%M:%S+02:00"), text
        else:
            forms[transaction_id], expected[transaction_id] = at.strftime("%Y-%m-%d"), at.strftime("%Y-%m-%d 00:00:00")
    with duckdb.connect() as con:
        con.execute("create table forms (transaction_id varchar, written varchar)")
        con.executemany("insert into forms values (?, ?)", list(forms.items()))
        con.execute(f"create table t as select * from read_csv('{path}', header = true, all_varchar = true)")
        con.execute(
            f"copy (select t.* replace (forms.written as transacted_at) from t inner join forms using (transaction_id))"
            f" to '{path}' (header, format csv)"
        )

    result = run_dbt(raw, tmp_path / "build", *CSV)
    assert_build_ok(result)
    assert result.query("select count(*) from staging.stg_raw__rejected_rows") == [(0,)]
    staged = dict(
        result.query(
            "select transaction_id, strftime(transacted_at, '%Y-%m-%d %H:%M:%S') from staging.stg_raw__transactions"
        )
    )
    assert staged == expected


# --- Amounts ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def euro_raw(tmp_path_factory, csv_raw) -> Path:
    """About 10 % of the transactions (purchases and refunds) written like `€58.74`."""
    raw = copy_raw(csv_raw, tmp_path_factory.mktemp("euro") / "raw")
    rewrite_csv(
        raw / "transactions.csv",
        "select * replace (case when hash(transaction_id) % 10 = 0 then '€' || amount else amount end as amount) from t",
    )
    return raw


def test_currency_symbols_quarantine_the_rows_mark_the_customers_and_keep_the_serving_copy(tmp_path, csv_raw, euro_raw):
    build = tmp_path / "build"
    first = run_dbt(csv_raw, build, *CSV)
    assert_build_ok(first)
    serving_file = first.serving_dir / "customer_value.duckdb"
    published = serving_file.read_bytes()

    result = run_dbt(euro_raw, build, *CSV)
    assert result.returncode == 0, result.output[-3000:]
    euros = csv_rows(euro_raw / "transactions.csv", "select count(*) from t where amount like '€%'")[0][0]
    assert f"malformed_value {euros} in amount" in result.output
    # The share is above max_rejected_share: BI users keep the last good copy, told once.
    assert result.output.count("Serving copy not published: a raw table lost more than max_rejected_share") == 1
    assert serving_file.read_bytes() == published

    # Each rejected row names its column and the value as written.
    assert result.query(
        "select count(*) from staging.stg_raw__rejected_rows where rejection_reason = 'malformed_value'"
        " and rejected_column = 'amount' and rejected_value like '€%'"
    ) == [(euros,)]
    # A rejected refund never leaves its purchase counted: the purchase is quarantined too,
    # naming the refund.
    refund_purchases = result.query(
        "select refund.raw_row->>'refunded_transaction_id', refund.raw_key from staging.stg_raw__rejected_rows as refund"
        " where refund.table_name = 'transactions' and refund.raw_row->>'transaction_type' = 'refund'"
        " and refund.rejection_reason = 'malformed_value'"
    )
    assert refund_purchases
    rejected = {
        key: (reason, value)
        for key, reason, value in result.query(
            "select raw_key, rejection_reason, rejected_value from staging.stg_raw__rejected_rows"
            " where table_name = 'transactions'"
        )
    }
    for purchase_id, refund_id in refund_purchases:
        assert result.query(
            f"select count(*) from staging.stg_raw__transactions where transaction_id = '{purchase_id}'"
        ) == [(0,)]
        # Rejected itself (its own amount had the symbol), or for its refund, naming it.
        assert rejected[purchase_id] in {("refund_rejected", refund_id)} | {
            ("malformed_value", value) for value in [rejected[purchase_id][1]] if value.startswith("€")
        }
    assert any(reason == "refund_rejected" for reason, _ in rejected.values())
    # Every customer a rejected row names is marked in the mart, with the count; no other.
    marked = dict(
        result.query("select customer_id, rejected_row_count from marts.customer_segments where has_rejected_rows")
    )
    touched = dict(
        result.query(
            "select customer_id, count(*) from staging.stg_raw__rejected_rows where customer_id is not null group by all"
        )
    )
    assert marked == touched and len(marked) > 0


def test_amounts_all_with_a_currency_symbol_stop_the_build_naming_the_column(tmp_path, csv_raw):
    raw = copy_raw(csv_raw, tmp_path / "raw")
    rewrite_csv(raw / "transactions.csv", "select * replace ('€' || amount as amount) from t")
    result = run_dbt(raw, tmp_path / "build", *CSV)
    line = assert_stopped_before_any_model(result, "column amount is not a decimal")
    assert "e.g. '€" in line and "no currency symbol" in line


# --- Columns and files -----------------------------------------------------------------


def test_an_extra_column_is_listed_once_in_the_summary_line(tmp_path, csv_raw):
    raw = copy_raw(csv_raw, tmp_path / "raw")
    rewrite_csv(raw / "transactions.csv", "select *, 'S' || (hash(transaction_id) % 7) as store_id from t")
    result = run_dbt(raw, tmp_path / "build", *CSV)
    assert_build_ok(result)
    lines = [line for line in result.output.splitlines() if "store_id" in line]
    assert len(lines) == 1, result.output[-4000:]
    assert (
        lines[0]
        .rstrip()
        .endswith(
            "Raw transactions: {0} read, {0} staged, 0 rejected; column(s) not in the contract, ignored: store_id.".format(
                csv_rows(raw / "transactions.csv", "select count(*) from t")[0][0]
            )
        )
    )


def test_a_bom_and_semicolons_are_read(tmp_path, csv_raw):
    raw = copy_raw(csv_raw, tmp_path / "raw")
    path = raw / "customers.csv"
    with duckdb.connect() as con:
        con.execute(
            f"copy (select * from read_csv('{path}', header = true, all_varchar = true)) to '{path}' (header, delimiter ';')"
        )
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    result = run_dbt(raw, tmp_path / "build", *CSV)
    assert_build_ok(result)
    assert result.query("select count(*) from staging.stg_raw__customers") == [(300,)]
    assert result.query("select count(*) from marts.customer_segments") == [(300,)]


def test_csv_files_without_raw_format_are_named_once_before_any_model(tmp_path, csv_raw):
    result = run_dbt(csv_raw, tmp_path / "build")
    line = assert_stopped_before_any_model(result, "was not found, but")
    assert line == (
        f"Raw file '{csv_raw}/customers.parquet' was not found, but '{csv_raw}/customers.csv' is there:"
        " to read CSV files set raw_format: csv (scripts/build.sh --vars '{raw_format: csv}'), or export every"
        " table as parquet."
    )
