"""The build benchmark (benchmarks/build_benchmark.py) keeps working: one small size, end to end."""

from __future__ import annotations

import json
import sys

import pytest
from dbt_helpers import PROJECT_DIR

sys.path.insert(0, str(PROJECT_DIR / "benchmarks"))

import build_benchmark


@pytest.mark.slow  # runs the benchmark's builds
def test_build_benchmark_runs_at_the_smallest_size(tmp_path):
    results_file = tmp_path / "BUILD_RESULTS.md"
    json_file = tmp_path / "results.json"
    readme = tmp_path / "README.md"
    readme.write_text("# Project\n\n<!-- build-benchmark:start -->\nold\n<!-- build-benchmark:end -->\n\nmore\n")
    assert (
        build_benchmark.main(
            [
                "--sizes",
                "1000",
                "--data-dir",
                str(tmp_path / "data"),
                "--work-dir",
                str(tmp_path / "work"),
                "--results",
                str(results_file),
                "--json",
                str(json_file),
                "--readme",
                str(readme),
            ]
        )
        == 0
    )
    report = json.loads(json_file.read_text())
    assert report["machine"]["cores"] >= 1 and report["versions"]["dbt-core"]
    (result,) = report["results"]
    assert result["customers"] == 1000 and result["raw_rows"] > 1000
    assert result["wall_s"] > 0 and result["peak_rss_bytes"] > 50 * 1024**2
    assert result["floor"]["wall_s"] > 0 and result["floor"]["peak_rss_bytes"] > 0
    times = result["times"]
    assert times["failures"] == [] and times["nodes"] > 100
    assert len(times["top_models"]) == 10 and len(times["top_tests"]) == 10
    assert "base_raw__email_events" in times["per_model"]
    text = results_file.read_text()
    assert "| 1,000 |" in text and "slowest nodes" in text
    # Targets are judged at 1M and 10M only: neither size ran, so the 10M target is not met.
    assert "## Targets" in text and "| no completed run in this file | **not met** |" in text
    # The README's short table is rewritten from the same results, the rest left as it was.
    readme_text = readme.read_text()
    assert "old" not in readme_text and readme_text.endswith("<!-- build-benchmark:end -->\n\nmore\n")
    assert "| 1,000 |" in readme_text
    # The cached data is reused: a second call does not generate again.
    raw_dir, generate_s = build_benchmark.ensure_data(tmp_path / "data", 1000, 42)
    assert generate_s is None and (raw_dir / "customers.parquet").is_file()


def test_model_memory_names_the_models_that_need_more_than_a_limit(clean_build, capsys):
    """benchmarks/model_memory.py: every compiled model of a build listed with the smallest
    limit it completes within; the wide join of every measure cannot fit in 1MB, and the
    built database is only read."""
    import model_memory

    _, build = clean_build
    database = build.database
    before = database.stat().st_mtime_ns
    assert (
        model_memory.main(
            [
                "--database",
                str(database),
                "--target-path",
                str(database.parent / "target"),
                "--limits",
                "1MB",
                "3GB",
                "--all",
            ]
        )
        == 0
    )
    rows = [line.split(" | ") for line in capsys.readouterr().out.splitlines()[2:]]
    needed = {row[0].removeprefix("| "): row[1] for row in rows}
    assert needed["int_customers_measures_joined"] == "3GB"
    assert set(needed.values()) <= {"1MB", "3GB"}
    assert {"stg_raw__customers", "customer_segments", "int_social_scores_computed"} <= set(needed)
    assert database.stat().st_mtime_ns == before
