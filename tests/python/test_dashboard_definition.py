"""The dashboard's definition, without Superset: the segment order, the labels, the layout.
(test_dashboard.py checks the dashboard itself, in a browser.)"""

from __future__ import annotations

import csv

from customer_value import dashboard


def test_the_segments_follow_the_seeds_two_by_two_order():
    with dashboard.SEGMENTS_SEED.open(newline="") as seed:
        rows = sorted(csv.DictReader(seed), key=lambda row: int(row["sort_order"]))
    assert dashboard.segment_order() == [row["value_segment"] for row in rows]
    assert dashboard.segment_order()[:4] == ["champion", "affluent", "advocate", "miser"]
    sql = dashboard.ordered_summary_sql()
    assert "when 'champion' then 1 " in sql and "when 'miser' then 4 " in sql
    assert sql.rstrip().endswith("from marts.segment_summary")


def test_every_shown_column_has_a_business_name_with_the_currency_on_money():
    for column in dashboard.SEGMENT_COLUMNS + dashboard.GROUP_COLUMNS:
        assert column in dashboard.COLUMN_LABELS, column
    assert dashboard.label("predicted_clv", "EUR") == "Predicted CLV (EUR)"
    assert dashboard.label("predicted_clv_share", "EUR") == "Share of predicted CLV"


def test_the_layout_is_a_tree_of_known_components():
    cell = dashboard.chart_cell(1, "uuid-1", "a chart", 6, 20)
    layout = dashboard.position(
        [
            [dashboard.markdown_cell("text", 12, 10)],
            [cell, dashboard.chart_cell(2, "uuid-2", "another", 6, 20)],
            [dashboard.header_cell("a heading")],
        ]
    )
    for key, component in layout.items():
        if key == "DASHBOARD_VERSION_KEY":
            continue
        for child in component.get("children", []):
            assert child in layout, child
            assert layout[child]["parents"][-1] == key
    assert [layout[key]["type"] for key in layout["GRID_ID"]["children"]] == ["ROW", "ROW", "HEADER"]
    assert sum(layout[child]["meta"]["width"] for child in layout["ROW-2"]["children"]) <= 12
