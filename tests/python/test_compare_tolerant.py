"""customer_value.compare's tolerant rule for two engines' builds (issue 20): rows by
key, money to the cent, floating point within 1e-9 relative, texts and keys exact."""

from __future__ import annotations

import datetime
from decimal import Decimal

import duckdb
import pytest

from customer_value.compare import main, tolerant_differences, values_agree

COLUMNS = ["customer_id", "as_of_date", "segment", "net_revenue", "probability_alive", "scores"]
ROWS = [
    ("c1", datetime.date(2026, 3, 31), "champion", Decimal("120.50"), 0.8123456789, [0.5, 1.25]),
    ("c2", datetime.date(2026, 3, 31), "miser", Decimal("0.00"), 0.0, []),
    ("c3", datetime.date(2026, 3, 31), None, None, None, None),
]


def with_value(rows: list[tuple], row: int, column: str, value: object) -> list[tuple]:
    changed = [list(r) for r in rows]
    changed[row][COLUMNS.index(column)] = value
    return [tuple(r) for r in changed]


def test_equal_rows_in_another_order_agree():
    key, differences = tolerant_differences(COLUMNS, ROWS, list(reversed(ROWS)))
    assert differences == []
    assert [COLUMNS[i] for i in key] == ["customer_id"]


def test_floats_within_tolerance_agree():
    close = with_value(ROWS, 0, "probability_alive", 0.8123456789 * (1 + 5e-10))
    near_zero = with_value(close, 1, "probability_alive", 4e-10)
    in_list = with_value(near_zero, 0, "scores", [0.5 * (1 + 1e-10), 1.25])
    assert tolerant_differences(COLUMNS, ROWS, in_list)[1] == []


def test_float_beyond_tolerance_differs():
    far = with_value(ROWS, 0, "probability_alive", 0.8123456789 * (1 + 1e-8))
    differences = tolerant_differences(COLUMNS, ROWS, far)[1]
    assert len(differences) == 1
    assert "customer_id='c1'" in differences[0] and "probability_alive" in differences[0]


def test_list_element_beyond_tolerance_or_of_other_length_differs():
    assert tolerant_differences(COLUMNS, ROWS, with_value(ROWS, 0, "scores", [0.5, 1.2500001]))[1]
    assert tolerant_differences(COLUMNS, ROWS, with_value(ROWS, 0, "scores", [0.5]))[1]


def test_money_differing_by_a_cent_differs():
    assert tolerant_differences(COLUMNS, ROWS, with_value(ROWS, 0, "net_revenue", Decimal("120.51")))[1]
    assert tolerant_differences(COLUMNS, ROWS, with_value(ROWS, 0, "net_revenue", Decimal("120.500")))[1] == []


def test_text_that_differs_differs():
    differences = tolerant_differences(COLUMNS, ROWS, with_value(ROWS, 1, "segment", "Miser"))[1]
    assert differences == ["customer_id='c2': segment 'miser' before, 'Miser' after"]
    assert tolerant_differences(COLUMNS, ROWS, with_value(ROWS, 2, "segment", "miser"))[1]


def test_missing_row_differs():
    differences = tolerant_differences(COLUMNS, ROWS, ROWS[:2])[1]
    assert differences == ["customer_id='c3': 1 row(s) before, 0 after"]


def test_values_agree_types():
    assert values_agree(None, None)
    assert not values_agree(None, 0.0)
    assert not values_agree(1, True) and not values_agree(1, 1.5)
    assert values_agree(float("nan"), float("nan"))
    assert values_agree(datetime.date(2026, 1, 1), datetime.date(2026, 1, 1))
    assert not values_agree(datetime.date(2026, 1, 1), datetime.date(2026, 1, 2))
    assert values_agree({"a": 1.0, "b": "x"}, {"a": 1.0 + 1e-12, "b": "x"})


@pytest.mark.parametrize(
    ("after_sql", "expected_exit", "expected_line"),
    [
        ("select * from rows", 0, "identical"),
        ("select id, money, value * (1 + 1e-12) as value, label from rows", 0, "equal within tolerance"),
        ("select id, money, value * (1 + 1e-6) as value, label from rows", 1, "different"),
        ("select id, money, value, upper(label) as label from rows", 1, "different"),
        ("select * from rows where id <> 2", 1, "different"),
    ],
)
def test_main_tolerant(tmp_path, capsys, after_sql, expected_exit, expected_line):
    rows = (
        "select * from (values (1, 1.25::decimal(18,2), 0.1, 'a'), (2, 2.50, 1e6 / 3, 'b')) t(id, money, value, label)"
    )
    for name, sql in (("before", "select * from rows"), ("after", after_sql)):
        with duckdb.connect(str(tmp_path / f"{name}.duckdb")) as con:
            con.execute("create schema marts")
            con.execute(f"create table marts.m as with rows as ({rows}) {sql}")
    assert main([str(tmp_path / "before.duckdb"), str(tmp_path / "after.duckdb"), "--tolerant"]) == expected_exit
    assert capsys.readouterr().out.splitlines()[-1] == expected_line
