"""Own data, bad data, bad settings: every failure says what to do in one line.

One test per realistic mistake (issue 9). Each runs `dbt build` as a user would and
checks the message the user gets: one line naming what is wrong and what to do, and
no Python traceback.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from dbt_helpers import DbtResult, generate, run_dbt


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
            "Setting high_clv_percentile = 2 is not allowed: it must be a number strictly between 0 and 1"
            " (a percentile rank).",
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
            "Setting as_of_date = 'end of June' is not allowed: it must be empty ('', the last transaction day)"
            " or an ISO date such as 2025-06-30.",
        ),
        ("{raw_format: xlsx}", "Setting raw_format = 'xlsx' is not allowed: it must be parquet or csv."),
        (
            "{reporting_currency: XYZ}",
            "Setting reporting_currency = 'XYZ' is not allowed: it must be a currency listed in"
            " seeds/currency_rates.csv (AUD, CAD, CHF, EUR, GBP, JPY, SEK, USD).",
        ),
        (
            "{social_knowledge_weight: 0, social_participation_weight: 0, social_reach_weight: 0}",
            "Settings social_knowledge_weight, social_participation_weight, social_reach_weight are all 0:"
            " at least one must be above 0",
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
    result = run_dbt(small_raw, tmp_path / "build", "--vars", "{as_of_date: 2001-01-31}")
    line = line_with(result, "Setting as_of_date = 2001-01-31 is before the data: the first transaction is on")
    assert "Use a date from" in line and "or leave as_of_date empty" in line
    # Stopped where the data became known: no unit test or intermediate model ran into it.
    assert "Conversion Error" not in result.output
    assert "unit_test" not in result.output.split("Completed with")[-1]
    assert "int_analysis_settings" not in relations_in(result.database)
