"""Segment history end to end: two analysis dates built into one database, then rebuilds.

The incremental model `snapshots.customer_segment_history` keeps each build's segments, and
`marts.segment_migrations` compares consecutive dates. The test records the mart after
each build and recomputes the migrations from those states on its own.

The tests share one database and run in file order: the last three rebuild it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from dbt_helpers import DbtResult, assert_build_ok, generate, rewrite_parquet, run_dbt

FIRST_DATE = date(2026, 3, 31)
SECOND_DATE = date(2026, 6, 30)  # the generator's default end date
# var history_relative_tolerance: a recorded measure may differ from the mart's by this
# share of its value (of 1 below 1) after a rebuild of the same date.
RELATIVE_TOLERANCE = 1e-6

MART_STATE_SQL = "select customer_id, as_of_date, value_segment, predicted_clv, crv from marts.customer_segments"
MIGRATIONS_SQL = """
    select from_as_of_date, to_as_of_date, from_segment, to_segment, customers,
        from_predicted_clv, to_predicted_clv, from_crv, to_crv
    from marts.segment_migrations
"""
CURRENT_KEYS_SQL = """
    select as_of_date, count(*) as versions, count(distinct customer_id) as customers
    from snapshots.customer_segment_history
    where dbt_valid_to is null
    group by as_of_date
"""
VERSIONS_SQL = """
    select customer_id, value_segment, predicted_clv, crv
    from snapshots.customer_segment_history
    where as_of_date = '{as_of_date}' and dbt_valid_to is {validity}
"""

State = dict[str, tuple]  # customer_id -> (value_segment, predicted_clv, crv)


@dataclass
class History:
    raw: Path
    work: Path
    result: DbtResult
    run_results: list[dict]  # of the build at SECOND_DATE
    first: State
    second: State
    first_output: str  # the log of the build at FIRST_DATE


def build_at(raw: Path, work: Path, as_of_date: date, *args: str, **more_vars: float) -> DbtResult:
    build_vars = {"as_of_date": as_of_date.isoformat(), **more_vars}
    result = run_dbt(raw, work, "--vars", json.dumps(build_vars), *args)
    assert_build_ok(result)
    return result


def mart_state(result: DbtResult, as_of_date: date) -> State:
    rows = result.query(MART_STATE_SQL)
    assert {row[1] for row in rows} == {as_of_date}
    return {customer_id: (segment, clv, crv) for customer_id, _, segment, clv, crv in rows}


def versions(result: DbtResult, as_of_date: date, *, current: bool) -> State:
    rows = result.query(VERSIONS_SQL.format(as_of_date=as_of_date, validity="null" if current else "not null"))
    return {customer_id: (segment, clv, crv) for customer_id, segment, clv, crv in rows}


def close(found: float | None, expected: float | None, customers: int = 1) -> bool:
    if found is None or expected is None:
        return found is None and expected is None
    found, expected = float(found), float(expected)  # money comes as DECIMAL
    return abs(found - expected) <= RELATIVE_TOLERANCE * max(abs(expected), customers) + 1e-9


def same_state(found: tuple, expected: tuple) -> bool:
    return found[0] == expected[0] and close(found[1], expected[1]) and close(found[2], expected[2])


def add(total: float | None, value: float | None) -> float | None:
    """SQL sum: NULLs are skipped, and a sum of nothing but NULLs is NULL."""
    if value is None:
        return total
    return float(value) if total is None else total + float(value)


def expected_migrations(before: State, after: State) -> dict[tuple, list]:
    """(from_segment, to_segment) -> [customers, from_clv, to_clv, from_crv, to_crv]."""
    migrations: dict[tuple, list] = defaultdict(lambda: [0, None, None, None, None])
    for customer_id in before.keys() | after.keys():
        from_segment, from_clv, from_crv = before.get(customer_id, ("new", None, None))
        to_segment, to_clv, to_crv = after.get(customer_id, ("gone", None, None))
        row = migrations[(from_segment or "unknown", to_segment or "unknown")]
        row[0] += 1
        row[1] = add(row[1], from_clv)
        row[2] = add(row[2], to_clv)
        row[3] = add(row[3], from_crv)
        row[4] = add(row[4], to_crv)
    return dict(migrations)


def assert_migrations(result: DbtResult, expected: dict[tuple, list]) -> None:
    found = {}
    for from_date, to_date, from_segment, to_segment, *measures in result.query(MIGRATIONS_SQL):
        assert (from_date, to_date) == (FIRST_DATE, SECOND_DATE)
        found[(from_segment, to_segment)] = measures
    assert found.keys() == expected.keys()
    for pair, (customers, *sums) in expected.items():
        assert found[pair][0] == customers, pair
        for found_sum, expected_sum in zip(found[pair][1:], sums):
            assert close(found_sum, expected_sum, customers), (pair, found_sum, expected_sum)


def execution_window(run_results: list[dict], unique_id: str) -> tuple[datetime, datetime]:
    node = next(result for result in run_results if result["unique_id"] == unique_id)
    execute = next(timing for timing in node["timing"] if timing["name"] == "execute")
    return datetime.fromisoformat(execute["started_at"]), datetime.fromisoformat(execute["completed_at"])


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> History:
    """Build at FIRST_DATE, then at SECOND_DATE into the same database, recording the mart each time."""
    raw = generate(tmp_path_factory.mktemp("raw_history"), "--customers", "1500", "--seed", "23")
    work = tmp_path_factory.mktemp("build_history")
    first_build = build_at(raw, work, FIRST_DATE)
    first = mart_state(first_build, FIRST_DATE)
    result = build_at(raw, work, SECOND_DATE)
    run_results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    return History(raw, work, result, run_results, first, mart_state(result, SECOND_DATE), first_build.output)


def test_an_empty_migrations_mart_says_why_once(history):
    """After the first build segment_migrations is empty, and the log says why and how to
    record a second date; once two dates are recorded it says nothing."""
    empty = [line for line in history.first_output.splitlines() if "segment_migrations is empty" in line]
    assert len(empty) == 1, empty
    assert f"records one as_of_date so far ({FIRST_DATE})" in empty[0]
    assert "scripts/build.sh --vars '{as_of_date: " in empty[0]
    assert "segment_migrations is empty" not in history.result.output


def test_one_build_runs_the_mart_then_the_history_then_the_migrations(history):
    _, mart_done = execution_window(history.run_results, "model.customer_value.customer_segments")
    snapshot_start, snapshot_done = execution_window(
        history.run_results, "model.customer_value.customer_segment_history"
    )
    migrations_start, _ = execution_window(history.run_results, "model.customer_value.segment_migrations")
    assert mart_done <= snapshot_start
    assert snapshot_done <= migrations_start


def test_snapshot_holds_each_dates_mart_once(history):
    assert sorted(history.result.query(CURRENT_KEYS_SQL)) == [
        (FIRST_DATE, len(history.first), len(history.first)),
        (SECOND_DATE, len(history.second), len(history.second)),
    ]
    for as_of_date, state in ((FIRST_DATE, history.first), (SECOND_DATE, history.second)):
        assert versions(history.result, as_of_date, current=True) == state
    # Customers are never deleted, and some joined between the two dates.
    assert history.first.keys() < history.second.keys()


def test_migrations_are_the_moves_between_the_two_recorded_mart_states(history):
    expected = expected_migrations(history.first, history.second)
    assert_migrations(history.result, expected)
    # The data move customers between segments, and bring new ones.
    assert any(from_segment not in ("new", to_segment) for from_segment, to_segment in expected)
    assert any(from_segment == "new" for from_segment, _ in expected)


def test_a_rebuild_at_the_same_date_duplicates_no_rows(history):
    rows_before = history.result.query("select count(*) from snapshots.customer_segment_history")

    rebuilt = build_at(history.raw, history.work, SECOND_DATE)

    # The model fits differ from the last build's in the last digits: not a change.
    assert rebuilt.query("select count(*) from snapshots.customer_segment_history") == rows_before
    assert versions(rebuilt, FIRST_DATE, current=True) == history.first
    assert versions(rebuilt, SECOND_DATE, current=True) == history.second
    assert_migrations(rebuilt, expected_migrations(history.first, history.second))


def test_a_rebuild_with_changed_values_keeps_the_old_ones_as_history(history):
    # Change the mart as a new build with other data or settings would, without the
    # cost of one: double some predicted CLVs, move some customers to another segment,
    # and shift others by floating-point noise, which is not a change.
    buyers = sorted(customer_id for customer_id, (_, clv, _) in history.second.items() if clv)
    doubled, resegmented, jittered = buyers[:20], buyers[20:40], buyers[40:60]
    with duckdb.connect(str(history.result.database)) as con:
        con.execute(
            "update marts.customer_segments set predicted_clv = 2 * predicted_clv where list_contains(?, customer_id)",
            [doubled],
        )
        con.execute(
            """
            update marts.customer_segments
            set value_segment = case when value_segment = 'miser' then 'champion' else 'miser' end
            where list_contains(?, customer_id)
            """,
            [resegmented],
        )
        con.execute(
            "update marts.customer_segments set predicted_clv = predicted_clv * (1 + 1e-9), crv = crv * (1 + 1e-9)"
            " where list_contains(?, customer_id)",
            [jittered],
        )
    changed = mart_state(history.result, SECOND_DATE)

    rebuilt = build_at(history.raw, history.work, SECOND_DATE, "--select", "customer_segment_history+")

    assert versions(rebuilt, SECOND_DATE, current=False) == {
        customer_id: history.second[customer_id] for customer_id in doubled + resegmented
    }
    current = versions(rebuilt, SECOND_DATE, current=True)
    assert current.keys() == changed.keys()
    assert all(same_state(current[customer_id], state) for customer_id, state in changed.items())
    assert all(current[customer_id] == history.second[customer_id] for customer_id in jittered)
    assert versions(rebuilt, FIRST_DATE, current=False) == {}
    assert versions(rebuilt, FIRST_DATE, current=True) == history.first
    assert_migrations(rebuilt, expected_migrations(history.first, changed))


def test_a_customer_removed_from_the_export_leaves_the_rebuilt_date(history):
    """A rebuild at a recorded date after a customer was taken out of the customers export
    (an erasure request, a test account): their row at that date is closed, their rows at
    other dates stay, and the migrations count them as gone (a snapshot with hard_deletes:
    ignore, what the history was before, kept the row current)."""
    removed = min(history.first.keys() & history.second.keys())
    rewrite_parquet(history.raw / "customers.parquet", f"select * from t where customer_id != '{removed}'")

    rebuilt = build_at(history.raw, history.work, SECOND_DATE)

    after = mart_state(rebuilt, SECOND_DATE)
    assert removed not in after and len(after) == len(history.second) - 1
    assert removed not in versions(rebuilt, SECOND_DATE, current=True)
    assert removed in versions(rebuilt, SECOND_DATE, current=False)
    assert versions(rebuilt, FIRST_DATE, current=True) == history.first
    assert sorted(rebuilt.query(CURRENT_KEYS_SQL)) == [
        (FIRST_DATE, len(history.first), len(history.first)),
        (SECOND_DATE, len(after), len(after)),
    ]
    current = versions(rebuilt, SECOND_DATE, current=True)
    assert_migrations(rebuilt, expected_migrations(history.first, current))
    assert any(to_segment == "gone" for _, to_segment in expected_migrations(history.first, current))
