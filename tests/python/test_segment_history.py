"""Segment history end to end: two analysis dates built into one database, then a rebuild.

The snapshot `snapshots.customer_segment_history` keeps each build's segments, and
`marts.segment_migrations` compares consecutive dates. The test records the mart after
each build and recomputes the migrations from those two states on its own.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path

import pytest

from dbt_helpers import DbtResult, assert_build_ok, generate, run_dbt

FIRST_DATE = date(2026, 3, 31)
SECOND_DATE = date(2026, 6, 30)  # the generator's default end date
# The snapshot records money rounded to the cent (var history_money_decimals: 2), so a
# migration's sum may differ from the mart's by half a cent per customer.
CENT_ROUNDING = 0.005

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


def build_at(raw: Path, work: Path, as_of_date: date) -> DbtResult:
    result = run_dbt(raw, work, "--vars", f"{{as_of_date: {as_of_date.isoformat()}}}")
    assert_build_ok(result)
    return result


def mart_state(result: DbtResult, as_of_date: date) -> dict[str, tuple]:
    """customer_id -> (value_segment, predicted_clv, crv) of the mart just built."""
    rows = result.query(MART_STATE_SQL)
    assert {row[1] for row in rows} == {as_of_date}
    return {customer_id: (segment, clv, crv) for customer_id, _, segment, clv, crv in rows}


def add(total: float | None, value: float | None) -> float | None:
    """SQL sum: NULLs are skipped, and a sum of nothing but NULLs is NULL."""
    if value is None:
        return total
    return value if total is None else total + value


def expected_migrations(before: dict[str, tuple], after: dict[str, tuple]) -> dict[tuple, list]:
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


def migrations_by_pair(result: DbtResult) -> dict[tuple, list]:
    found = {}
    for from_date, to_date, from_segment, to_segment, *measures in result.query(MIGRATIONS_SQL):
        assert (from_date, to_date) == (FIRST_DATE, SECOND_DATE)
        found[(from_segment, to_segment)] = measures
    return found


def assert_sums_close(found: dict[tuple, list], expected: dict[tuple, list]) -> None:
    assert found.keys() == expected.keys()
    for pair, (customers, *sums) in expected.items():
        assert found[pair][0] == customers, pair
        for found_sum, expected_sum in zip(found[pair][1:], sums):
            if expected_sum is None:
                assert found_sum is None, pair
            else:
                assert found_sum == pytest.approx(expected_sum, abs=CENT_ROUNDING * customers + 1e-6), pair


def execution_window(work: Path, unique_id: str) -> tuple[datetime, datetime]:
    """When a node of the last dbt command started and finished executing."""
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    node = next(result for result in results if result["unique_id"] == unique_id)
    execute = next(timing for timing in node["timing"] if timing["name"] == "execute")
    return datetime.fromisoformat(execute["started_at"]), datetime.fromisoformat(execute["completed_at"])


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """Build at FIRST_DATE, then at SECOND_DATE into the same database, recording the mart each time.

    DbtResult.query reads the database as it is when called, and the last test
    rebuilds it: that test comes last in the module.
    """
    raw = generate(tmp_path_factory.mktemp("raw_history"), "--customers", "1500", "--seed", "23")
    work = tmp_path_factory.mktemp("build_history")
    first = mart_state(build_at(raw, work, FIRST_DATE), FIRST_DATE)
    result = build_at(raw, work, SECOND_DATE)
    second = mart_state(result, SECOND_DATE)
    return raw, work, result, first, second


def test_one_build_runs_the_mart_then_the_snapshot_then_the_migrations(history):
    _, work, _, _, _ = history
    _, mart_done = execution_window(work, "model.customer_value.customer_segments")
    snapshot_start, snapshot_done = execution_window(work, "snapshot.customer_value.customer_segment_history")
    migrations_start, _ = execution_window(work, "model.customer_value.segment_migrations")
    assert mart_done <= snapshot_start
    assert snapshot_done <= migrations_start


def test_snapshot_holds_one_current_row_per_customer_and_date(history):
    _, _, result, first, second = history
    assert sorted(result.query(CURRENT_KEYS_SQL)) == [
        (FIRST_DATE, len(first), len(first)),
        (SECOND_DATE, len(second), len(second)),
    ]
    # Customers are never deleted, and some joined between the two dates.
    assert first.keys() < second.keys()


def test_migrations_are_the_moves_between_the_two_recorded_mart_states(history):
    _, _, result, first, second = history
    expected = expected_migrations(first, second)
    assert_sums_close(migrations_by_pair(result), expected)
    # The demo data move customers between segments, and bring new ones.
    assert any(from_segment != to_segment for from_segment, to_segment in expected if from_segment != "new")
    assert any(from_segment == "new" for from_segment, _ in expected)


def test_a_rebuild_at_the_same_date_duplicates_no_rows(history):
    raw, work, result, first, second = history
    rows_before = result.query("select count(*) from snapshots.customer_segment_history")[0][0]
    migrations_before = migrations_by_pair(result)

    rebuilt = build_at(raw, work, SECOND_DATE)

    assert sorted(rebuilt.query(CURRENT_KEYS_SQL)) == [
        (FIRST_DATE, len(first), len(first)),
        (SECOND_DATE, len(second), len(second)),
    ]
    # The rows of the earlier date are untouched (hard_deletes: ignore).
    assert rebuilt.query(
        f"select count(*) from snapshots.customer_segment_history where as_of_date = '{FIRST_DATE}'"
    ) == [(len(first),)]
    # Same data, same values: the model fits differ only in the last digits, which the
    # rounding hides except, rarely, for a value on a rounding boundary.
    rows_after = rebuilt.query("select count(*) from snapshots.customer_segment_history")[0][0]
    assert rows_before <= rows_after <= rows_before + len(second) // 100
    replaced = rebuilt.query(
        """
        select max(abs(old.predicted_clv - new.predicted_clv)), max(abs(old.crv - new.crv))
        from snapshots.customer_segment_history as old
        inner join snapshots.customer_segment_history as new
            on old.customer_id = new.customer_id and old.as_of_date = new.as_of_date
        where old.dbt_valid_to is not null and new.dbt_valid_to is null
        """
    )[0]
    assert all(change is None or change <= 0.01 + 1e-9 for change in replaced), replaced
    assert_sums_close(migrations_by_pair(rebuilt), migrations_before)
