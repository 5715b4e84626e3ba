"""The semantic layer: MetricFlow's CLI (`mf`, package dbt-metricflow) answers the same
numbers as SQL on the marts.

`mf` reads the semantic manifest from `<project>/target/semantic_manifest.json` and
queries the database of the dbt profile. The session's clean build wrote its artifacts
into its own target folder, so each call runs in a folder that links the project's
files and that build's target folder, with DBT_DUCKDB_PATH pointing at its database.
"""

from __future__ import annotations

import csv
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dbt_helpers import PROJECT_DIR, DbtResult

MF = str(Path(sys.executable).with_name("mf"))
KEEP_OUT = {"target", "logs", "dbt_packages"}


@pytest.fixture(scope="module")
def mf_project(clean_build, tmp_path_factory) -> tuple[Path, DbtResult]:
    """A project folder whose target/ is the clean build's."""
    _, build = clean_build
    project = tmp_path_factory.mktemp("mf_project")
    for entry in PROJECT_DIR.iterdir():
        if entry.name not in KEEP_OUT and not entry.name.startswith("."):
            (project / entry.name).symlink_to(entry)
    (project / "target").symlink_to(build.database.parent / "target")
    assert (project / "target" / "semantic_manifest.json").exists()
    # mf opens the database to write (the dbt adapter does): a copy of the clean build's,
    # which other tests (other pytest-xdist workers too) read meanwhile.
    database = project / build.database.name
    shutil.copyfile(build.database, database)
    return project, DbtResult(build.returncode, build.output, database, build.serving_dir)


def run_mf(mf_project, *args: str) -> subprocess.CompletedProcess:
    project, build = mf_project
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(project),
        "DBT_PROJECT_DIR": str(project),
        "DBT_DUCKDB_PATH": str(build.database),
        "SERVING_DIR": str(build.serving_dir),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_DIR), os.environ.get("PYTHONPATH")])),
    }
    completed = subprocess.run([MF, *args], check=False, cwd=project, env=env, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return completed


def mf_query(mf_project, tmp_path: Path, *args: str) -> list[dict[str, str]]:
    """Rows of `mf query ARGS`, read from its CSV output."""
    out = tmp_path / f"mf-{len(list(tmp_path.glob('mf-*.csv')))}.csv"
    run_mf(mf_project, "query", *args, "--csv", str(out))
    if not out.exists():  # mf writes no file for an empty result
        return []
    with out.open(newline="") as handle:
        return list(csv.DictReader(handle))


def number(value: str) -> float | None:
    return None if value == "" else float(value)


def assert_close(actual: float | None, expected: float | None, what: str) -> None:
    if expected is None:
        assert actual in (None, 0.0), what
    else:
        assert actual is not None and math.isclose(actual, float(expected), rel_tol=1e-9, abs_tol=1e-6), (
            what,
            actual,
            expected,
        )


def test_mf_validates_the_semantic_models_against_the_database(mf_project):
    completed = run_mf(mf_project, "validate-configs")
    assert "ERRORS: 0" in completed.stdout
    assert "Successfully validated metrics against data warehouse" in completed.stdout


def test_metrics_by_value_segment_equal_sql_on_the_mart(mf_project, tmp_path):
    metrics = ["customers", "net_revenue", "historical_clv", "predicted_clv", "mean_predicted_clv", "crv"]
    rows = mf_query(
        mf_project,
        tmp_path,
        "--metrics",
        ",".join(metrics + ["ambassador_share"]),
        "--group-by",
        "customer__value_segment,metric_time__day",
    )
    _, build = mf_project
    expected = {
        segment: values
        for segment, *values in build.query(
            """
            select
                value_segment, count(*), sum(net_revenue_to_date), sum(historical_clv),
                sum(predicted_clv), avg(predicted_clv), sum(crv),
                count(*) filter (where is_ambassador) / count(*), any_value(as_of_date)
            from marts.customer_segments
            group by value_segment
            """
        )
    }
    got = {row["customer__value_segment"]: row for row in rows}
    assert set(got) == set(expected)
    for segment, values in expected.items():
        row = got[segment]
        assert int(row["customers"]) == values[0], segment
        for name, value in zip(metrics[1:] + ["ambassador_share"], values[1:7]):
            assert_close(number(row[name]), value, f"{segment} {name}")
        assert row["metric_time__day"].startswith(str(values[7])), segment


def test_totals_by_as_of_date_equal_the_segment_summary(mf_project, tmp_path):
    """The whole customer base at its as_of_date; the value segment rows of
    segment_summary add up to it and its ambassador row has the same share."""
    rows = mf_query(
        mf_project,
        tmp_path,
        "--metrics",
        "customers,buyers,prospects,ambassadors,ambassador_share,net_revenue,predicted_clv",
        "--group-by",
        "metric_time__day",
    )
    _, build = mf_project
    [(as_of_date, customers, revenue, predicted)] = build.query(
        """
        select any_value(as_of_date), sum(customers), sum(net_revenue_to_date), sum(predicted_clv)
        from marts.segment_summary where segment_kind = 'value_segment'
        """
    )
    [(ambassadors, ambassador_share)] = build.query(
        "select customers, customer_share from marts.segment_summary where segment = 'ambassador'"
    )
    [(buyers, prospects)] = build.query(
        "select count(*) filter (where not is_prospect), count(*) filter (where is_prospect) from marts.customer_segments"
    )
    [row] = rows
    assert row["metric_time__day"].startswith(str(as_of_date))
    assert int(row["customers"]) == customers == buyers + prospects
    assert (int(row["buyers"]), int(row["prospects"]), int(row["ambassadors"])) == (buyers, prospects, ambassadors)
    assert_close(number(row["ambassador_share"]), ambassador_share, "ambassador_share")
    assert_close(number(row["net_revenue"]), revenue, "net_revenue")
    assert_close(number(row["predicted_clv"]), predicted, "predicted_clv")


def test_a_filter_and_a_saved_query(mf_project, tmp_path):
    """A where filter on a dimension, and the saved query customer_value_by_segment,
    give the same customers per segment as SQL."""
    _, build = mf_project
    filtered = mf_query(
        mf_project,
        tmp_path,
        "--metrics",
        "customers",
        "--group-by",
        "customer__value_segment",
        "--where",
        "{{ Dimension('customer__is_ambassador') }}",
    )
    expected = dict(
        build.query("select value_segment, count(*) from marts.customer_segments where is_ambassador group by all")
    )
    assert {row["customer__value_segment"]: int(row["customers"]) for row in filtered} == expected

    saved = mf_query(mf_project, tmp_path, "--saved-query", "customer_value_by_segment")
    expected = dict(build.query("select value_segment, count(*) from marts.customer_segments group by all"))
    assert {row["customer__value_segment"]: int(row["customers"]) for row in saved} == expected


def test_segment_moves_equal_the_migrations_mart(mf_project, tmp_path):
    """One recorded as_of_date: no moves yet, in MetricFlow as in the mart."""
    _, build = mf_project
    rows = mf_query(mf_project, tmp_path, "--saved-query", "segment_moves")
    expected = build.query("select from_segment, to_segment, sum(customers) from marts.segment_migrations group by all")
    got = [
        (row["segment_migration__from_segment"], row["segment_migration__to_segment"], int(row["migrating_customers"]))
        for row in rows
    ]
    assert sorted(got) == sorted(expected)
