"""The serving copy of a Spark build, without Spark (customer_value/spark_serving.py).

The launcher customer_value.spark_dbt collects the plan that the hook
spark__publish_serving_copy (macros/serving.sql) logs, and publishes after a successful
run. Here a stand-in writer takes Spark's place (a folder with one part file, as Spark's
`coalesce(1)` writes it): what gets published, that each file is replaced only when all
are written (a failure leaves the previous copy as it was), and that nothing is published
after a failed run or when the plan gives a reason. The Spark writer itself is run on a
real Spark session in docs/spark.md's measurements.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from types import SimpleNamespace

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from customer_value import spark_serving
from customer_value.spark_serving import PLAN_PREFIX, PlanCollector, ServingPlan, publish, publish_after_run

RELATIONS = ["clv_model_parameters", "customer_segments"]


def plan_for(serving_dir: Path, relations=RELATIONS, reason: str = "", invocation_id: str = "inv-1") -> ServingPlan:
    return ServingPlan(
        serving_dir=str(serving_dir),
        invocation_id=invocation_id,
        reason=reason,
        accepted_rejected_rows=False,
        relations=[{"name": name, "relation": f"marts.{name}"} for name in relations],
    )


class FakeWriter:
    """Writes `relation`'s stand-in table as Spark does: a folder with _SUCCESS and one part file."""

    def __init__(self, version: int = 1, fail_on: str | None = None, on_write=None) -> None:
        self.version = version
        self.fail_on = fail_on
        self.on_write = on_write
        self.written: list[str] = []

    def table(self, relation: str) -> pa.Table:
        return pa.table({"relation": [relation], "version": [self.version]})

    def __call__(self, relation: str, folder: str) -> None:
        if self.on_write:
            self.on_write(relation)
        if relation == self.fail_on:
            raise RuntimeError(f"cannot write {relation}")
        Path(folder).mkdir()
        (Path(folder) / "_SUCCESS").write_text("")
        pq.write_table(self.table(relation), Path(folder) / "part-00000-abc-c000.snappy.parquet")
        self.written.append(relation)


def files(serving_dir: Path) -> dict[str, tuple[int, str]]:
    """Every file and folder under serving_dir: (inode, sha256) of files, (inode, '') of folders."""
    return {
        str(path.relative_to(serving_dir)): (
            path.stat().st_ino,
            hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "",
        )
        for path in sorted(serving_dir.rglob("*"))
    }


def test_the_plan_is_read_from_the_hooks_log_line():
    logged = {
        "serving_dir": "",
        "invocation_id": "abc",
        "reason": "",
        "accepted_rejected_rows": False,
        "relations": [{"name": "customer_segments", "relation": "marts.customer_segments"}],
    }
    collector = PlanCollector()
    for name, message in [
        ("JinjaLogInfo", PLAN_PREFIX + json.dumps({**logged, "invocation_id": "info"})),
        ("JinjaLogDebug", "something else"),
        ("JinjaLogDebug", PLAN_PREFIX + json.dumps(logged)),
    ]:
        collector(SimpleNamespace(info=SimpleNamespace(name=name), data=SimpleNamespace(msg=message)))
    assert collector.plan == ServingPlan("", "abc", "", False, logged["relations"])


def test_a_successful_run_publishes_one_file_per_mart_and_nothing_else(tmp_path):
    serving = tmp_path / "serving"
    (serving / "parquet").mkdir(parents=True)
    (serving / "parquet" / "no_longer_a_mart.parquet").write_text("old")
    (serving / "parquet" / ".customer_segments.parquet.old-run.tmp").write_text("left by an interrupted run")
    (serving / "parquet" / ".customer_segments.parquet.old-run.tmp.d").mkdir()
    writer = FakeWriter()

    published = publish_after_run(plan_for(serving), True, lambda: writer)

    assert published == [str(serving / "parquet" / f"{name}.parquet") for name in RELATIONS]
    assert sorted(files(serving)) == ["parquet", *(f"parquet/{name}.parquet" for name in RELATIONS)]
    for name in RELATIONS:
        assert pq.read_table(serving / "parquet" / f"{name}.parquet").equals(writer.table(f"marts.{name}"))


def test_files_are_replaced_only_when_every_relation_is_written(tmp_path):
    serving = tmp_path / "serving"
    publish(plan_for(serving), FakeWriter(version=1))
    before = files(serving)
    seen = []

    def check_nothing_replaced_yet(relation: str) -> None:
        seen.append(relation)
        assert files(serving)["parquet/clv_model_parameters.parquet"] == before["parquet/clv_model_parameters.parquet"]

    publish(plan_for(serving, invocation_id="inv-2"), FakeWriter(version=2, on_write=check_nothing_replaced_yet))
    after = files(serving)
    assert seen == [f"marts.{name}" for name in RELATIONS]
    assert sorted(after) == sorted(before)
    for name in RELATIONS:
        # a new file (new inode, renamed over the old one), holding the new rows
        assert after[f"parquet/{name}.parquet"][0] != before[f"parquet/{name}.parquet"][0]
        assert pq.read_table(serving / "parquet" / f"{name}.parquet")["version"].to_pylist() == [2]


def test_a_failure_while_writing_leaves_the_previous_copy_as_it_was(tmp_path):
    serving = tmp_path / "serving"
    publish(plan_for(serving), FakeWriter(version=1))
    before = files(serving)

    with pytest.raises(RuntimeError, match="cannot write marts.customer_segments"):
        publish(plan_for(serving, invocation_id="inv-2"), FakeWriter(version=2, fail_on="marts.customer_segments"))

    assert files(serving) == before  # clv_model_parameters, written first, was not published either


def test_a_part_folder_with_more_than_one_file_is_refused(tmp_path):
    serving = tmp_path / "serving"

    def two_parts(relation: str, folder: str) -> None:
        Path(folder).mkdir()
        for part in ("part-00000-a.parquet", "part-00001-a.parquet"):
            pq.write_table(pa.table({"x": [1]}), Path(folder) / part)

    with pytest.raises(RuntimeError, match="expected one Parquet part file"):
        publish(plan_for(serving), two_parts)
    assert files(serving) == {"parquet": files(serving)["parquet"]}


@pytest.mark.parametrize(
    ("reason", "success", "said"),
    [
        ("2 node(s) failed or were skipped: a (error), b (skipped)", False, "2 node(s) failed or were skipped"),
        ("this run did not build every mart (not built: customer_segments)", True, "did not build every mart"),
        ("", False, "the run failed after its nodes were built"),
    ],
)
def test_nothing_is_published_after_a_failed_run_or_with_a_reason(tmp_path, monkeypatch, reason, success, said):
    serving = tmp_path / "serving"
    publish(plan_for(serving), FakeWriter(version=1))
    before = files(serving)
    lines: list[str] = []
    monkeypatch.setattr(spark_serving, "log", lines.append)

    def no_writer():
        raise AssertionError("nothing may be written")

    assert publish_after_run(plan_for(serving, reason=reason, invocation_id="inv-2"), success, no_writer) == []
    assert files(serving) == before
    assert len(lines) == 1
    assert lines[0].startswith("Serving copy not published: ") and said in lines[0]
    assert lines[0].endswith(f"The previous copy in {serving} is left as it was.")


def test_no_plan_publishes_nothing(tmp_path):
    assert publish_after_run(None, True, lambda: FakeWriter()) == []


def test_serving_compare_takes_floating_point_noise_only_when_tolerant(tmp_path):
    """Two engines' files: the last digit of a double may differ (--tolerant), nothing else."""
    from customer_value.serving_compare import compare_file

    def write(name: str, values: list[float], segments: list[str]) -> Path:
        path = tmp_path / f"{name}.parquet"
        pq.write_table(pa.table({"customer_id": ["a", "b"], "segment": segments, "clv": values}), path)
        return path

    duckdb_file = write("duckdb", [100.0, 0.25], ["x", "y"])
    noise = write("noise", [100.0 * (1 + 1e-13), 0.25 + 1e-15], ["x", "y"])
    off = write("off", [100.0 * (1 + 1e-6), 0.25], ["x", "y"])
    text = write("text", [100.0, 0.25], ["x", "z"])
    assert compare_file(duckdb_file, noise, tolerant=True) == []
    assert compare_file(duckdb_file, noise) != []
    assert compare_file(duckdb_file, off, tolerant=True) != []
    assert compare_file(duckdb_file, text, tolerant=True) != []
