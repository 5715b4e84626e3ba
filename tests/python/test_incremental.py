"""Daily runs: the event tables as folders of files, staged incrementally.

A build on the first batch of files, then the second batch added and an incremental
build on the same database, must publish what one full build on both batches publishes:
the same marts and the same rejected rows (duplicates across batches included).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pytest
from dbt_helpers import assert_build_ok, generate, mart_relations, relation_differences, rewrite_parquet, run_dbt

EVENT_TABLES = ("transactions", "email_events", "community_activity")
STAGED_FILES = "select raw_file, count(*) from staging.base_raw__{}_rows group by raw_file order by raw_file"


def split_into_batches(raw: Path, out: Path, first_share: float = 0.7) -> Path:
    """`out` holds every raw table of `raw`; each event table is a folder whose
    batch_1.parquet has its first rows (by position in the file). The rest, with the
    injected bad rows appended at the end (duplicates of rows in batch 1 among them), is
    kept in out/_batch_2/<table>/batch_2.parquet until add_second_batch()."""
    out.mkdir(parents=True)
    with duckdb.connect() as con:
        for path in raw.glob("*.parquet"):
            table = path.stem
            if table not in EVENT_TABLES:
                shutil.copy(path, out / path.name)
                continue
            rows = con.execute(f"select count(*) from read_parquet('{path}')").fetchone()[0]
            cut = int(rows * first_share)
            for batch, condition in ((1, f"file_row_number < {cut}"), (2, f"file_row_number >= {cut}")):
                folder = out / table if batch == 1 else out / "_batch_2" / table
                folder.mkdir(parents=True)
                con.execute(
                    f"copy (select * from read_parquet('{path}') where {condition} order by file_row_number)"
                    f" to '{folder / f'batch_{batch}.parquet'}' (format parquet)"
                )
    return out


def add_second_batch(layout: Path) -> None:
    for table in EVENT_TABLES:
        os.replace(layout / "_batch_2" / table / "batch_2.parquet", layout / table / "batch_2.parquet")


@pytest.fixture(scope="module")
def daily_builds(tmp_path_factory):
    raw = generate(tmp_path_factory.mktemp("raw_daily"), "--customers", "1500", "--seed", "5", "--faults")
    root = tmp_path_factory.mktemp("daily")
    incremental_layout = split_into_batches(raw, root / "incremental_raw")
    first = run_dbt(incremental_layout, root / "incremental")
    assert_build_ok(first)
    staged_first = {table: first.query(STAGED_FILES.format(table)) for table in EVENT_TABLES}
    add_second_batch(incremental_layout)
    second = run_dbt(incremental_layout, root / "incremental")
    assert_build_ok(second)

    full_layout = split_into_batches(raw, root / "full_raw")
    add_second_batch(full_layout)
    full = run_dbt(full_layout, root / "full", "--full-refresh")
    assert_build_ok(full)
    return raw, incremental_layout, staged_first, second, full


def test_second_batch_has_duplicates_of_the_first(daily_builds):
    _, layout, *_ = daily_builds
    with duckdb.connect() as con:
        repeated = con.execute(
            f"select count(*) from read_parquet('{layout / 'email_events' / 'batch_2.parquet'}')"
            f" where event_id in (select event_id from read_parquet('{layout / 'email_events' / 'batch_1.parquet'}'))"
        ).fetchone()[0]
    assert repeated > 0


def test_incremental_build_reads_only_the_new_files(daily_builds):
    _, _, staged_first, second, full = daily_builds
    for table in EVENT_TABLES:
        staged = second.query(STAGED_FILES.format(table))
        assert [name for name, _ in staged] == ["batch_1.parquet", "batch_2.parquet"], table
        assert staged == full.query(STAGED_FILES.format(table)), table
        assert staged_first[table] == staged[:1], table
    assert "base_raw__email_events_rows" in second.output


def test_incremental_build_equals_a_full_rebuild(daily_builds):
    _, _, _, second, full = daily_builds
    assert relation_differences(second.database, full.database, ["staging.stg_raw__rejected_rows"]) == {}
    counts = (
        "select table_name, is_present, raw_row_count, staged_row_count, rejected_row_count"
        " from staging.stg_raw__table_inventory order by table_name"
    )
    assert second.query(counts) == full.query(counts)
    for table in EVENT_TABLES:
        assert relation_differences(second.database, full.database, [f"staging.stg_raw__{table}"]) == {}, table
    marts = mart_relations(full.database)
    assert len(marts) >= 3
    assert relation_differences(second.database, full.database, marts, rel_tol=1e-6) == {}
    # Duplicates across the two batches were rejected as such, by the incremental build too.
    assert (
        second.query(
            "select count(*) from staging.stg_raw__rejected_rows"
            " where table_name = 'email_events' and rejection_reason = 'duplicate_id'"
        )[0][0]
        > 0
    )


def test_a_changed_staged_file_asks_for_a_full_refresh(daily_builds, tmp_path):
    _, layout, _, second, _ = daily_builds
    changed = tmp_path / "raw"
    shutil.copytree(layout, changed)
    work = tmp_path / "build"
    work.mkdir()
    shutil.copy(second.database, work / "test.duckdb")
    path = changed / "community_activity" / "batch_1.parquet"
    with duckdb.connect() as con:
        con.execute(f"copy (select * from read_parquet('{path}') limit 10) to '{tmp_path / 'short.parquet'}'")
    shutil.move(tmp_path / "short.parquet", path)
    result = run_dbt(changed, work, "--select", "base_raw__community_activity_rows")
    assert result.returncode != 0
    assert "Raw file 'batch_1.parquet' of community_activity was staged with" in result.output
    assert "--full-refresh" in result.output
    refreshed = run_dbt(changed, work, "--select", "base_raw__community_activity_rows", "--full-refresh")
    assert_build_ok(refreshed)


def test_a_table_exported_as_one_file_is_staged_again_whole(daily_builds, tmp_path):
    """A new export replacing transactions.parquet (same name, same number of rows) is
    staged again whole: incremental staging is for folders of files only."""
    raw, *_ = daily_builds
    layout = tmp_path / "raw"
    shutil.copytree(raw, layout, ignore=shutil.ignore_patterns("_truth"))
    staged = (
        "select count(*), count(*) filter (where transaction_id like 'export2-%')"
        " from staging.base_raw__transactions_rows"
    )
    only_staging = ("--select", "+base_raw__transactions_rows", "--exclude", "test_type:data")
    first = run_dbt(layout, tmp_path / "build", *only_staging)
    assert_build_ok(first)
    staged_first = first.query(staged)
    rewrite_parquet(
        layout / "transactions.parquet",
        "select * replace (coalesce('export2-' || transaction_id, transaction_id) as transaction_id) from t",
    )
    second = run_dbt(layout, tmp_path / "build", *only_staging)
    assert_build_ok(second)
    with duckdb.connect() as con:
        rows = con.execute(
            f"select count(*), count(*) filter (where transaction_id like 'export2-%')"
            f" from read_parquet('{layout / 'transactions.parquet'}')"
        ).fetchall()
    assert staged_first == [(rows[0][0], 0)]
    assert second.query(staged) == rows


def test_a_first_single_file_then_daily_folders_never_drops_a_day(tmp_path):
    """The README's path from a first export to daily folders: a file and a folder of the
    same table side by side stop the build (naming both, the fix and the README's command)
    instead of reading the file and ignoring the folder; with the file moved into the
    folder under its own name, the next build keeps what it staged and reads only the new
    day; the marts equal a full build of the same files."""
    daily = generate(tmp_path / "daily", "--customers", "300", "--seed", "3", "--format", "csv", "--daily-folders")
    new_days = {
        table: next(p.name for p in (daily / table).iterdir() if p.name != "0000_history.csv") for table in EVENT_TABLES
    }
    raw = tmp_path / "raw"
    shutil.copytree(daily, raw, ignore=shutil.ignore_patterns("_truth", *EVENT_TABLES))
    for table in EVENT_TABLES:
        shutil.copy(daily / table / "0000_history.csv", raw / f"{table}.csv")
    csv = ("--vars", "{raw_format: csv}")
    first = run_dbt(raw, tmp_path / "build", *csv)
    assert_build_ok(first)

    (raw / "transactions").mkdir()
    shutil.copy(daily / "transactions" / new_days["transactions"], raw / "transactions")
    both = run_dbt(raw, tmp_path / "build", *csv)
    assert both.returncode != 0
    message = (
        f"Raw transactions is both the file '{raw}/transactions.csv' and the folder '{raw}/transactions/' (1 file(s))"
    )
    assert both.output.count(message) == 1, both.output[-3000:]
    assert f"mv '{raw}/transactions.csv' '{raw}/transactions/'" in both.output
    assert "scripts/build.sh" in both.output and " SKIP " not in both.output

    for table in EVENT_TABLES:
        (raw / table).mkdir(exist_ok=True)
        shutil.move(raw / f"{table}.csv", raw / table / f"{table}.csv")
        if table != "transactions":
            shutil.copy(daily / table / new_days[table], raw / table)
    moved = run_dbt(raw, tmp_path / "build", *csv)
    assert_build_ok(moved)
    for table in EVENT_TABLES:
        assert dict(moved.query(STAGED_FILES.format(table))) == {
            f"{table}.csv": dict(first.query(STAGED_FILES.format(table)))[f"{table}.csv"],
            new_days[table]: csv_row_count(daily / table / new_days[table]),
        }
    full = run_dbt(raw, tmp_path / "full", *csv, "--full-refresh")
    assert_build_ok(full)
    # The daily database also recorded the first build's as_of_date (the day before), so
    # it has moves between segments that the one full build has no history for.
    marts = [relation for relation in mart_relations(full.database) if relation != "marts.segment_migrations"]
    assert relation_differences(moved.database, full.database, marts, rel_tol=1e-6) == {}


def csv_row_count(path: Path) -> int:
    with duckdb.connect() as con:
        return con.execute(f"select count(*) from read_csv('{path}', header = true, all_varchar = true)").fetchone()[0]
