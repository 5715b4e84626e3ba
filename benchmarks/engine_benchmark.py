"""Benchmark: the same full build on DuckDB and on Spark (local, in process), same machine.

    python benchmarks/engine_benchmark.py --sizes 100000 1000000
    python benchmarks/engine_benchmark.py --sizes 10000000 --engines spark   # long

For each size: the raw data (generated and cached as build_benchmark.py does), then for
each engine a fresh `dbt build --exclude-resource-type unit_test` (models, seeds and
data tests; the unit tests do not read the data): DuckDB into a new database file,
Spark through `customer_value.spark_dbt` into a new warehouse and metastore
(DBT_SPARK_DIR). Recorded: wall time, CPU time (user + system of the process tree),
peak resident memory of the process tree (the JVM and Spark's Python workers included),
dbt's thread time in models and in tests, and the slowest models. A failed build is
recorded with its last lines.

Results go to benchmarks/ENGINE_RESULTS.md (unless --no-write) and, with --json, to a
JSON file; --add-results puts earlier JSON results in the same table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from build_benchmark import (
    DEFAULT_DATA_DIR,
    PROJECT_DIR,
    Measured,
    _children_map,
    ensure_data,
    gib,
    load_average,
    machine,
    node_times,
    tree_rss,
)

RESULTS = Path(__file__).resolve().parent / "ENGINE_RESULTS.md"
SPARK_PYTHON = PROJECT_DIR / ".venv-spark" / "bin" / "python"


@dataclass
class EngineResult:
    engine: str
    customers: int
    ok: bool
    wall_s: float
    cpu_s: float
    peak_rss_bytes: int
    model_thread_s: float = 0.0
    test_thread_s: float = 0.0
    slowest_models: list = field(default_factory=list)
    load_before: float = 0.0
    load_after: float = 0.0
    measured_at: str = ""
    memory_limit: str = ""
    tail: str = ""


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def run_tree_measured(command: list[str], env: dict[str, str]) -> Measured:
    """Run `command`; wall time, peak RSS and CPU time of its whole process tree.

    Spark's JVM and Python workers are not waited for by the process that started them,
    so the CPU time wait4 reports misses them: the tree's processes are polled instead
    (every 0.2 s; each process counted with the last CPU time seen)."""
    with tempfile.TemporaryFile(mode="w+") as log:
        start = time.perf_counter()
        process = subprocess.Popen(command, env=env, cwd=PROJECT_DIR, stdout=log, stderr=subprocess.STDOUT, text=True)
        peak, cpu = 0, {}
        done = threading.Event()

        def poll() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, tree_rss(process.pid))
                children, todo = _children_map(), [process.pid]
                while todo:
                    pid = todo.pop()
                    cpu[pid] = max(cpu.get(pid, 0.0), _cpu_seconds(pid))
                    todo.extend(children.get(pid, []))
                done.wait(0.2)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        done.set()
        poller.join()
        log.seek(0)
        waited = usage.ru_utime + usage.ru_stime
        return Measured(os.waitstatus_to_exitcode(status), wall, peak, log.read(), max(waited, sum(cpu.values())))


def build_command(
    engine: str, raw_dir: Path, work: Path, threads: int | None = None
) -> tuple[list[str], dict[str, str]]:
    """The full build's command line and environment for one engine, writing only in `work`
    (`threads`: dbt's threads instead of the profile's)."""
    env = {
        **os.environ,
        "RAW_DATA_DIR": str(raw_dir),
        "DBT_PROFILES_DIR": str(PROJECT_DIR),
        "SERVING_DIR": str(work / "serving"),
    }
    common = ["build", "--exclude-resource-type", "unit_test", "--target-path", str(work / "target")]
    common += ["--log-path", str(work / "logs")]
    if threads is not None:
        common += ["--threads", str(threads)]
    if engine == "duckdb":
        env["DBT_DUCKDB_PATH"] = str(work / "bench.duckdb")
        return [str(Path(sys.executable).with_name("dbt")), *common], env
    env["DBT_SPARK_DIR"] = str(work / "spark")
    return [str(SPARK_PYTHON), "-m", "customer_value.spark_dbt", *common, "--target", "spark"], env


def measure(engine: str, customers: int, raw_dir: Path, scratch: Path, threads: int | None = None) -> EngineResult:
    work = scratch / f"{engine}_c{customers}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    command, env = build_command(engine, raw_dir, work, threads)
    before = load_average()
    measured = run_tree_measured(command, env)
    results_file = work / "target" / "run_results.json"
    times = node_times(json.loads(results_file.read_text())) if results_file.is_file() else {}
    return EngineResult(
        engine=engine,
        customers=customers,
        ok=measured.returncode == 0,
        wall_s=measured.wall_s,
        cpu_s=measured.cpu_s,
        peak_rss_bytes=measured.peak_rss_bytes,
        model_thread_s=times.get("models_s", 0.0),
        test_thread_s=times.get("tests_s", 0.0),
        slowest_models=times.get("top_models", [])[:5],
        load_before=before,
        load_after=load_average(),
        measured_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        memory_limit=(
            f"DuckDB memory_limit {os.environ.get('DBT_DUCKDB_MEMORY_LIMIT', '3GB')}"
            if engine == "duckdb"
            else f"Spark heap {os.environ.get('SPARK_DRIVER_MEMORY', '4g')}"
        )
        + ("" if threads is None else f", `--threads {threads}`"),
        tail="" if measured.returncode == 0 else measured.output[-2000:],
    )


def render(results: list[EngineResult]) -> str:
    info = machine()
    lines = [
        "# DuckDB and Spark: the same build, same machine",
        "",
        "Written by `benchmarks/engine_benchmark.py` (docs/spark.md says what the numbers mean).",
        f"Machine: {info['cores']} cores, {info['memory_gib']} GiB; {info['platform']}.",
        "Each build: `dbt build` without the unit tests, fresh database or warehouse; CPU and",
        "peak memory are the whole process tree's (Spark: the JVM and its Python workers).",
        "",
        "| customers | engine | memory setting | result | wall | CPU | peak RSS | models (thread) | tests (thread) | load | measured |",
        "|---:|---|---|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in sorted(results, key=lambda r: (r.customers, r.engine)):
        lines.append(
            f"| {r.customers:,} | {r.engine} | {r.memory_limit} | {'ok' if r.ok else 'FAILED'} | {r.wall_s:.1f} s | {r.cpu_s:.0f} s"
            f" | {gib(r.peak_rss_bytes)} | {r.model_thread_s:.1f} s | {r.test_thread_s:.1f} s"
            f" | {r.load_before:.1f} / {r.load_after:.1f} | {r.measured_at} |"
        )
    for r in results:
        if r.slowest_models:
            slowest = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in r.slowest_models)
            lines += ["", f"Slowest models, {r.engine} at {r.customers:,}: {slowest}."]
        if not r.ok:
            lines += ["", f"{r.engine} at {r.customers:,} failed; its last lines:", "", "```", r.tail.strip(), "```"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--engines", nargs="+", choices=["duckdb", "spark"], default=["duckdb", "spark"])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--scratch", type=Path, default=Path(tempfile.gettempdir()) / "customer_value_engines")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--json", type=Path, default=None, help="also write the results as JSON here")
    parser.add_argument("--add-results", type=Path, nargs="*", default=[], help="earlier JSON results to include")
    parser.add_argument("--threads", type=int, default=None, help="dbt threads (default: the profile's)")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    if "spark" in args.engines and not SPARK_PYTHON.exists():
        print("engine_benchmark: no .venv-spark; run scripts/setup.sh --target spark first", file=sys.stderr)
        return 2

    results = [EngineResult(**row) for path in args.add_results for row in json.loads(path.read_text())]
    for customers in args.sizes:
        raw_dir, _ = ensure_data(args.data_dir, customers, args.seed)
        for engine in args.engines:
            result = measure(engine, customers, raw_dir, args.scratch, args.threads)
            print(
                f"{engine} {customers:,}: {'ok' if result.ok else 'FAILED'} {result.wall_s:.1f} s wall,"
                f" {result.cpu_s:.0f} s CPU, peak {gib(result.peak_rss_bytes)}",
                flush=True,
            )
            results.append(result)
            if args.json:
                args.json.write_text(json.dumps([asdict(r) for r in results], indent=1))
    if not args.no_write:
        args.results.write_text(render(results))
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
