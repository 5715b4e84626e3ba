"""Benchmark: the full `dbt build` at growing numbers of customers.

    python benchmarks/build_benchmark.py                       # 10,000 / 100,000 / 1,000,000
    python benchmarks/build_benchmark.py --sizes 10000000      # once, by hand (long)
    python benchmarks/build_benchmark.py --sizes 1000000 --incremental

For each size: generate the raw data (cached per size and seed under --data-dir, with a
stamp of the generator's source so a changed generator regenerates), `dbt parse` the
project (timed apart: a daily run re-parses only what changed), run `dbt build` into a
fresh DuckDB file, and record

* wall time of the dbt process, and dbt's own elapsed time (run_results.json);
* peak RSS of the dbt process tree (sum over the process and its children, polled
  from /proc every 50 ms);
* per-model and per-test times from target/run_results.json (the slowest ten of each,
  and the sums: thread time, so they add up to more than the wall time on 2 threads);
* the raw-scan floor: one DuckDB query, in its own process, that scans the same raw
  files and aggregates them per customer, with its own wall time and peak RSS.

With --incremental it also measures a daily run: the event tables (transactions,
email_events, community_activity) become folders of files with the last day in a file
of its own; the build on all but the last day is followed by adding that day and an
incremental `dbt build`, whose wall time and staging time are recorded.

Machine (cores, memory, load before and after), versions and results go to
benchmarks/BUILD_RESULTS.md (unless --no-write) and, with --json, to a JSON file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT_DIR = HERE.parent
DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
DEFAULT_DATA_DIR = Path(os.environ.get("SCALE_DATA_DIR", Path(tempfile.gettempdir()) / "customer_value_scale"))
RESULTS = HERE / "BUILD_RESULTS.md"
README = PROJECT_DIR / "README.md"
#: The README's scale table stands between these lines; the benchmark rewrites it.
README_MARKERS = ("<!-- build-benchmark:start -->", "<!-- build-benchmark:end -->")
#: The tables staged incrementally: one file per day once they are folders.
EVENT_TABLES = {"transactions": "transacted_at", "email_events": "occurred_at", "community_activity": "occurred_at"}
#: Every raw table and the column(s) naming its customer, for the raw-scan floor.
CUSTOMER_COLUMNS = {
    "customers": "customer_id",
    "transactions": "customer_id",
    "email_events": "customer_id",
    "referrals": "referrer_customer_id",
    "social_profiles": "customer_id",
    "community_activity": "customer_id",
    "wallet_surveys": "customer_id",
}


# -- measuring a process tree ---------------------------------------------------------------


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def _rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def tree_rss(pid: int) -> int:
    """Resident memory of `pid` and all its descendants, in bytes."""
    children = _children_map()
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += _rss_bytes(current)
        todo.extend(children.get(current, []))
    return total


@dataclass
class Measured:
    returncode: int
    wall_s: float
    peak_rss_bytes: int
    output: str
    cpu_s: float = 0.0


def run_measured(command: list[str], env: dict[str, str] | None = None, cwd: Path = PROJECT_DIR) -> Measured:
    """Run `command`, polling the peak RSS of its process tree."""
    with tempfile.TemporaryFile(mode="w+") as log:
        start = time.perf_counter()
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, text=True)
        peak = 0
        done = threading.Event()

        def poll() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, tree_rss(process.pid))
                done.wait(0.05)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        # wait4: the child's CPU time (user + system, its own children included).
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        done.set()
        poller.join()
        log.seek(0)
        return Measured(returncode, wall, peak, log.read(), usage.ru_utime + usage.ru_stime)


# -- data -----------------------------------------------------------------------------------


def generator_stamp(customers: int, seed: int) -> str:
    sources = sorted((PROJECT_DIR / "customer_value" / "generator").glob("*.py"))
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in sources)).hexdigest()
    return f"{digest} --customers {customers} --seed {seed}"


def ensure_data(data_dir: Path, customers: int, seed: int) -> tuple[Path, float | None]:
    """The raw data for one size, generated unless a matching copy is cached."""
    out = data_dir / f"c{customers}_s{seed}"
    stamp = generator_stamp(customers, seed)
    stamp_file = out / ".generated"
    if stamp_file.is_file() and stamp_file.read_text().strip() == stamp:
        return out, None
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "customer_value.generator",
            "--customers",
            str(customers),
            "--seed",
            str(seed),
            "--out",
            str(out),
            "--quiet",
        ],
        check=True,
        cwd=PROJECT_DIR,
    )
    stamp_file.write_text(stamp + "\n")
    return out, time.perf_counter() - start


def raw_paths(raw_dir: Path) -> dict[str, str]:
    """Each raw table's file, or the glob of its folder of files, as the project reads them."""
    paths = {}
    for table in CUSTOMER_COLUMNS:
        single = raw_dir / f"{table}.parquet"
        if single.is_file():
            paths[table] = str(single)
        elif (raw_dir / table).is_dir():
            paths[table] = str(raw_dir / table / "*.parquet")
    return paths


def raw_row_counts(raw_dir: Path) -> dict[str, int]:
    import duckdb

    with duckdb.connect() as con:
        return {
            table: con.execute(f"select count(*) from read_parquet('{path}')").fetchone()[0]
            for table, path in raw_paths(raw_dir).items()
        }


def split_last_day(raw_dir: Path, out: Path) -> dict[str, tuple[str, int]]:
    """A copy of `raw_dir` whose event tables are folders: 0000_history.parquet holds every row
    but one day's, day_<date>.parquet that day's rows (kept aside in out/_new_day until
    added). The day is the most recent one with at least the table's mean rows per day
    (email events thin out over the last days of the generated data). Returns each event
    table's day and its rows."""
    import duckdb

    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    pending = out / "_new_day"
    pending.mkdir()
    days = {}
    with duckdb.connect() as con:
        for path in raw_dir.glob("*.parquet"):
            table = path.stem
            if table not in EVENT_TABLES:
                os.link(path, out / path.name)
                continue
            (out / table).mkdir()
            (pending / table).mkdir()
            day = f"cast(try_cast({EVENT_TABLES[table]} as timestamp) as date)"
            source = f"read_parquet('{path}')"
            new_day, rows = con.execute(
                f"with days as (select {day} as day, count(*) as n from {source} group by 1) "
                f"select day, n from days where n >= (select avg(n) from days) order by day desc limit 1"
            ).fetchone()
            days[table] = (str(new_day), rows)
            con.execute(
                f"copy (select * from {source} where {day} is distinct from date '{new_day}') "
                f"to '{out / table / '0000_history.parquet'}' (format parquet)"
            )
            con.execute(
                f"copy (select * from {source} where {day} = date '{new_day}') "
                f"to '{pending / table / f'day_{new_day}.parquet'}' (format parquet)"
            )
    return days


def add_new_day(layout: Path) -> None:
    pending = layout / "_new_day"
    for folder in pending.iterdir():
        for file in folder.iterdir():
            file.rename(layout / folder.name / file.name)


# -- dbt ------------------------------------------------------------------------------------


def dbt_command(raw_dir: Path, work: Path, command: str, *args: str) -> tuple[list[str], dict[str, str]]:
    env = {
        **os.environ,
        "RAW_DATA_DIR": str(raw_dir),
        "DBT_DUCKDB_PATH": str(work / "bench.duckdb"),
        "DBT_PROFILES_DIR": str(PROJECT_DIR),
    }
    dbt = str(Path(sys.executable).with_name("dbt"))
    return [dbt, command, "--target-path", str(work / "target"), "--log-path", str(work / "logs"), *args], env


def parse_project(raw_dir: Path, work: Path) -> float:
    """`dbt parse` once, so that the timed build starts from a parsed project (as a daily
    run does: dbt re-parses only what changed). Returns its wall time."""
    command, env = dbt_command(raw_dir, work, "parse")
    measured = run_measured(command, env=env)
    if measured.returncode != 0:
        raise RuntimeError(f"dbt parse failed:\n{measured.output[-5000:]}")
    return measured.wall_s


def run_dbt(raw_dir: Path, work: Path, *args: str, fresh: bool = True) -> tuple[Measured, dict]:
    database = work / "bench.duckdb"
    if fresh:
        for path in (database, database.with_suffix(".duckdb.wal")):
            path.unlink(missing_ok=True)
    command, env = dbt_command(raw_dir, work, "build", "--warn-error", *args)
    measured = run_measured(command, env=env)
    results_file = work / "target" / "run_results.json"
    run_results = json.loads(results_file.read_text()) if results_file.is_file() else {}
    return measured, run_results


def node_times(run_results: dict) -> dict:
    """Slowest models and tests, and the sums of model and test thread time."""
    models, tests = [], []
    for result in run_results.get("results", []):
        parts = result["unique_id"].split(".")
        kind, name = parts[0], parts[-1]
        if kind == "test":
            # test.<project>.<name>[.<hash>]: the name, without the hash of generic tests.
            tests.append((parts[2], result["execution_time"], result["status"]))
        elif kind in ("model", "seed", "unit_test"):
            target = tests if kind == "unit_test" else models
            target.append((name, result["execution_time"], result["status"]))
    models.sort(key=lambda item: -item[1])
    tests.sort(key=lambda item: -item[1])
    return {
        "models_s": round(sum(t for _, t, _ in models), 2),
        "tests_s": round(sum(t for _, t, _ in tests), 2),
        "staging_s": round(sum(t for n, t, _ in models if n.startswith(("base_raw__", "stg_raw__"))), 2),
        "event_staging_s": round(sum(t for n, t, _ in models if n.startswith("base_raw__") and n.endswith("_rows")), 2),
        "intermediate_s": round(sum(t for n, t, _ in models if n.startswith("int_")), 2),
        "top_models": [(n, round(t, 2)) for n, t, _ in models[:10]],
        "top_tests": [(n, round(t, 2)) for n, t, _ in tests[:10]],
        "nodes": len(models) + len(tests),
        "failures": [n for n, _, s in models + tests if s not in ("success", "pass")],
        "per_model": {n: round(t, 3) for n, t, _ in models},
    }


def raw_scan_floor(raw_dir: Path) -> dict:
    """One DuckDB query over the same raw files: rows and distinct days per customer."""
    parts = [
        f"select {column} as customer_id from read_parquet('{path}')"
        for table, path in raw_paths(raw_dir).items()
        for column in [CUSTOMER_COLUMNS[table]]
    ]
    query = (
        "select count(*), sum(n) from (select customer_id, count(*) as n from ("
        + " union all ".join(parts)
        + ") group by customer_id)"
    )
    code = f"import duckdb, sys; con = duckdb.connect(); print(con.execute({query!r}).fetchone())"
    measured = run_measured([sys.executable, "-c", code])
    if measured.returncode != 0:
        raise RuntimeError(measured.output)
    return {"wall_s": round(measured.wall_s, 2), "peak_rss_bytes": measured.peak_rss_bytes}


# -- one size ---------------------------------------------------------------------------------


@dataclass
class SizeResult:
    customers: int
    raw_rows: int
    email_events: int
    generate_s: float | None
    parse_s: float
    wall_s: float
    dbt_elapsed_s: float
    cpu_s: float
    peak_rss_bytes: int
    floor: dict
    times: dict
    load_before: float
    load_after: float
    incremental: dict = field(default_factory=dict)
    measured_at: str = ""
    dbt_threads: int | None = None
    #: DBT_DUCKDB_MEMORY_LIMIT when set for the run (profiles.yml's default otherwise).
    memory_limit: str | None = None


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def measure_size(
    customers: int, seed: int, data_dir: Path, work_root: Path, incremental: bool, threads: int | None = None
) -> SizeResult:
    raw_dir, generate_s = ensure_data(data_dir, customers, seed)
    counts = raw_row_counts(raw_dir)
    work = work_root / f"c{customers}"
    work.mkdir(parents=True, exist_ok=True)
    parse_s = parse_project(raw_dir, work)
    load_before = load_average()
    floor = raw_scan_floor(raw_dir)
    measured, run_results = run_dbt(raw_dir, work, *(["--threads", str(threads)] if threads else []))
    if measured.returncode != 0:
        raise RuntimeError(f"dbt build failed at {customers} customers:\n{measured.output[-5000:]}")
    if "[WARNING]" in measured.output:
        raise RuntimeError(f"dbt build warned at {customers} customers:\n{measured.output[-5000:]}")
    result = SizeResult(
        customers=customers,
        raw_rows=sum(counts.values()),
        email_events=counts.get("email_events", 0),
        generate_s=None if generate_s is None else round(generate_s, 1),
        parse_s=round(parse_s, 2),
        wall_s=round(measured.wall_s, 2),
        cpu_s=round(measured.cpu_s, 1),
        dbt_elapsed_s=round(run_results.get("elapsed_time", float("nan")), 2),
        peak_rss_bytes=measured.peak_rss_bytes,
        floor=floor,
        times=node_times(run_results),
        load_before=load_before,
        load_after=load_average(),
        measured_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        dbt_threads=threads,
        memory_limit=os.environ.get("DBT_DUCKDB_MEMORY_LIMIT") or None,
    )
    if incremental:
        result.incremental = measure_incremental(raw_dir, work_root / f"c{customers}_daily")
    return result


def measure_incremental(raw_dir: Path, work: Path) -> dict:
    """Build on all days but the last, add the last day's files, build again."""
    layout = work / "raw"
    days = split_last_day(raw_dir, layout)
    work.mkdir(parents=True, exist_ok=True)
    parse_project(layout, work)
    first, first_results = run_dbt(layout, work)
    if first.returncode != 0:
        raise RuntimeError(f"dbt build (all but the last day) failed:\n{first.output[-5000:]}")
    add_new_day(layout)
    load = load_average()
    daily, daily_results = run_dbt(layout, work, fresh=False)
    if daily.returncode != 0:
        raise RuntimeError(f"incremental dbt build failed:\n{daily.output[-5000:]}")
    first_times, daily_times = node_times(first_results), node_times(daily_results)
    return {
        "new_day": days,
        "load_before": load,
        "history_wall_s": round(first.wall_s, 2),
        "history_staging_s": first_times["staging_s"],
        "daily_wall_s": round(daily.wall_s, 2),
        "daily_peak_rss_bytes": daily.peak_rss_bytes,
        "daily_staging_s": daily_times["staging_s"],
        "history_event_staging_s": first_times["event_staging_s"],
        "daily_event_staging_s": daily_times["event_staging_s"],
        "daily_top_models": daily_times["top_models"],
        "daily_models_s": daily_times["models_s"],
        "daily_intermediate_s": daily_times["intermediate_s"],
        "daily_tests_s": daily_times["tests_s"],
        "daily_dbt_elapsed_s": round(daily_results.get("elapsed_time", float("nan")), 2),
        "daily_cpu_s": round(daily.cpu_s, 1),
    }


# -- report -----------------------------------------------------------------------------------


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in ("dbt-core", "dbt-duckdb", "duckdb", "pyarrow"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def machine() -> dict:
    meminfo = Path("/proc/meminfo").read_text().split()
    mem_kib = int(meminfo[meminfo.index("MemTotal:") + 1])
    return {"cores": os.cpu_count(), "memory_gib": round(mem_kib / 1024**2, 1), "platform": platform.platform()}


def gib(value: int) -> str:
    return f"{value / 1024**3:.2f} GiB"


def profile_settings() -> str:
    """dbt threads and the DuckDB settings of profiles.yml, env_var() defaults resolved."""
    import re

    import yaml

    output = next(iter(yaml.safe_load((PROJECT_DIR / "profiles.yml").read_text()).values()))["outputs"]["dev"]

    def resolve(value: object) -> str:
        return re.sub(
            r"\{\{\s*env_var\('(\w+)',\s*'([^']*)'\)\s*\}\}", lambda m: os.environ.get(m[1], m[2]), str(value)
        )

    settings = ", ".join(f"{k} {resolve(v)}" for k, v in output.get("settings", {}).items() if k != "TimeZone")
    return f"dbt threads {output.get('threads')}; DuckDB {settings}"


#: The targets the build is measured against (issue 19), checked on each results file;
#: docs/scale.md says what limits the ones not met.
TARGET_WALL_1M_S = 40.0
TARGET_PEAK_1M_GIB = 4.0
TARGET_DAILY_SHARE = 1 / 3
TARGET_WALL_10M_S = 600.0


def targets_section(results: list[SizeResult], cores: int) -> list[str]:
    """The targets at 1,000,000 and 10,000,000 customers against the measured runs."""

    def met(ok: bool) -> str:
        return "met" if ok else "**not met**"

    by_size = {r.customers: r for r in results}
    rows: list[str] = []
    million = by_size.get(1_000_000)
    if million:
        rows.append(
            f"| 1,000,000 customers: full build at most {TARGET_WALL_1M_S:.0f} s | {million.wall_s:.1f} s; "
            f"CPU {million.cpu_s:.0f} s, so at least {million.cpu_s / cores:.0f} s on {cores} cores "
            f"| {met(million.wall_s <= TARGET_WALL_1M_S)} |"
        )
        rows.append(
            f"| 1,000,000 customers: peak memory at most {TARGET_PEAK_1M_GIB:.0f} GiB | {gib(million.peak_rss_bytes)} "
            f"| {met(million.peak_rss_bytes <= TARGET_PEAK_1M_GIB * 1024**3)} |"
        )
        if million.incremental:
            share = million.incremental["daily_wall_s"] / million.wall_s
            rows.append(
                f"| 1,000,000 customers: daily run at most a third of the full build "
                f"| {million.incremental['daily_wall_s']:.1f} s = {share:.2f} of {million.wall_s:.1f} s "
                f"| {met(share <= TARGET_DAILY_SHARE)} |"
            )
    ten_million = by_size.get(10_000_000)
    if ten_million:
        limit = f"`DBT_DUCKDB_MEMORY_LIMIT={ten_million.memory_limit}`" if ten_million.memory_limit else "the 3GB limit"
        rows.append(
            f"| 10,000,000 customers: completes within the 3GB limit, in at most {TARGET_WALL_10M_S / 60:.0f} min "
            f"| completed with {limit} in {ten_million.wall_s / 60:.1f} min, "
            f"peak {gib(ten_million.peak_rss_bytes)} "
            f"| {met(ten_million.memory_limit in (None, '3GB') and ten_million.wall_s <= TARGET_WALL_10M_S)} |"
        )
    else:
        rows.append(
            "| 10,000,000 customers: completes within the 3GB limit, in at most 10 min "
            "| no completed run in this file | **not met** |"
        )
    return [
        "",
        "## Targets",
        "",
        (
            "What this file's runs show against the build's targets; what limits the ones not met, measured: "
            'docs/scale.md, "Targets, and what limits the ones not met".'
        ),
        "",
        "| target | measured | |",
        "|---|---|---|",
        *rows,
    ]


def render(results: list[SizeResult], args: argparse.Namespace, earlier: int = 0) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    mach = machine()
    vers = ", ".join(f"{k} {v}" for k, v in versions().items())
    lines = [
        "# Build benchmark: `dbt build` from an empty database",
        "",
        (
            f"Command: `python benchmarks/build_benchmark.py --sizes {' '.join(str(r.customers) for r in results)}"
            f"{' --incremental' if args.incremental else ''}` (seed {args.seed}), {when}."
            + (f" {earlier} size(s) from an earlier run (`--add-results`)." if earlier else "")
            if earlier < len(results)
            else f"Runs of `python benchmarks/build_benchmark.py` (seed {args.seed}, `--incremental` for the daily "
            f"runs), each measured at the time in the last column; file written {when}."
        ),
        "",
        (
            f"Machine: {mach['cores']} cores, {mach['memory_gib']} GiB, {mach['platform']}. {vers}. "
            f"Profile: {profile_settings()}."
        ),
        (
            "The machine is shared: the 1-minute load average before and after each build is given; above ~1 other "
            "work competed for the 2 cores."
        ),
        "",
        (
            "CPU: user + system seconds of the dbt process (2 cores: wall can not be below CPU / 2). "
            "Wall: the `dbt build` process, start to exit, on a project `dbt parse` had parsed before (parse: its "
            "time, paid once per change of the project, not per build). Peak RSS: the dbt process tree, polled every 50 ms. "
            "Floor: one DuckDB query (own process, default settings) scanning the same raw files and counting rows "
            "per customer. Model and test times are thread time from run_results.json (2 threads)."
        ),
        "",
        (
            "| customers | raw rows (email events) | wall | CPU | dbt elapsed | peak RSS | models | tests "
            "| raw-scan floor | floor RSS | parse | load before/after | measured |"
        ),
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.customers:,} | {r.raw_rows:,} ({r.email_events:,}) | {r.wall_s:.1f} s "
            f"| {f'{r.cpu_s:.0f} s' if r.cpu_s else 'n/a'} | {r.dbt_elapsed_s:.1f} s "
            f"| {gib(r.peak_rss_bytes)} | {r.times['models_s']:.1f} s | {r.times['tests_s']:.1f} s "
            f"| {r.floor['wall_s']:.2f} s | {gib(r.floor['peak_rss_bytes'])} | {r.parse_s:.1f} s "
            f"| {r.load_before:.2f}/{r.load_after:.2f} | {r.measured_at}"
            + (f", `--threads {r.dbt_threads}`" if r.dbt_threads else "")
            + (f", `DBT_DUCKDB_MEMORY_LIMIT={r.memory_limit}`" if r.memory_limit else "")
            + " |"
        )
    lines += targets_section(results, mach["cores"] or 1)
    daily = [r for r in results if r.incremental]
    if daily:
        lines += [
            "",
            "## A daily run",
            "",
            (
                "The event tables (transactions, email_events, community_activity) as folders: every day but one in "
                "one file, built from an empty database; then that day's file added and `dbt build` run again on the "
                "same database (incremental staging). The day: each table's most recent day with at least its mean "
                "rows per day. Staging: thread time of the base_raw__ and stg_raw__ models (the other raw tables are "
                "whole exports, staged again by every build); event tables staged: the incremental "
                "base_raw__<table>_rows models alone, daily against the full build's."
            ),
            "",
            (
                "| customers | the new day's rows | build before the day: wall / staging | daily build: wall / staging "
                "| daily peak RSS | daily / full wall | daily / full staging | event tables staged: daily / full |"
            ),
            "|---:|---|---:|---:|---:|---:|---:|---:|",
        ]
        for r in daily:
            inc = r.incremental
            lines.append(
                f"| {r.customers:,} | "
                + ", ".join(f"{table} {rows:,} ({day})" for table, (day, rows) in inc["new_day"].items())
                + f" | {inc['history_wall_s']:.1f} s / "
                f"{inc['history_staging_s']:.1f} s | {inc['daily_wall_s']:.1f} s / {inc['daily_staging_s']:.1f} s "
                f"| {gib(inc['daily_peak_rss_bytes'])} | {inc['daily_wall_s'] / r.wall_s:.2f} "
                f"| {inc['daily_staging_s'] / max(r.times['staging_s'], 1e-9):.2f} "
                f"| {inc['daily_event_staging_s']:.2f} s / {r.times['event_staging_s']:.1f} s = "
                f"{inc['daily_event_staging_s'] / max(r.times['event_staging_s'], 1e-9):.3f} |"
            )
    for r in results:
        lines += [
            "",
            f"## {r.customers:,} customers: slowest nodes (thread time)",
            "",
            "| model | s | test | s |",
            "|---|---:|---|---:|",
        ]
        for i in range(max(len(r.times["top_models"]), len(r.times["top_tests"]))):
            model = r.times["top_models"][i] if i < len(r.times["top_models"]) else ("", "")
            test = r.times["top_tests"][i] if i < len(r.times["top_tests"]) else ("", "")
            lines.append(f"| {model[0]} | {model[1]} | {test[0]} | {test[1]} |")
        if r.incremental:
            inc = r.incremental
            lines += [
                "",
                "Daily build, slowest models: " + ", ".join(f"{n} {t} s" for n, t in inc["daily_top_models"][:5]) + ".",
            ]
            if "daily_models_s" in inc:
                lines += [
                    "",
                    (
                        f"Thread time, full build / daily build: staging {r.times['staging_s']:.1f} / "
                        f"{inc['daily_staging_s']:.1f} s, intermediate {r.times.get('intermediate_s', float('nan')):.1f}"
                        f" / {inc['daily_intermediate_s']:.1f} s, all models {r.times['models_s']:.1f} / "
                        f"{inc['daily_models_s']:.1f} s, tests {r.times['tests_s']:.1f} / {inc['daily_tests_s']:.1f} s;"
                        f" CPU {r.cpu_s:.0f} / {inc['daily_cpu_s']:.0f} s."
                    ),
                ]
    return "\n".join(lines) + "\n"


def readme_table(results: list[SizeResult]) -> str:
    """The README's short scale table: per size, the build measured last (and its daily
    run, where one was measured)."""
    latest: dict[int, SizeResult] = {}
    for r in results:
        if r.customers not in latest or r.measured_at >= latest[r.customers].measured_at:
            latest[r.customers] = r
    daily = {r.customers: r.incremental for r in results if r.incremental}
    lines = [
        "| customers | raw rows | `dbt build` from empty | peak memory | daily run (one new day) |",
        "|---:|---:|---:|---:|---:|",
    ]
    for customers, r in sorted(latest.items()):
        day = f"{daily[customers]['daily_wall_s']:.0f} s" if customers in daily else "-"
        lines.append(f"| {customers:,} | {r.raw_rows:,} | {r.wall_s:.0f} s | {gib(r.peak_rss_bytes)} | {day} |")
    return "\n".join(lines)


def update_readme(readme: Path, table: str) -> None:
    """Put `table` between the README's build-benchmark markers (left alone without them)."""
    text = readme.read_text()
    start, end = README_MARKERS
    if start not in text or end not in text:
        return
    before, rest = text.split(start, 1)
    after = rest.split(end, 1)[1]
    readme.write_text(f"{before}{start}\n{table}\n{end}{after}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="*",
        default=list(DEFAULT_SIZES),
        help="numbers of customers (none: only rewrite the results file from --add-results)",
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help=f"cache of generated raw data (default {DEFAULT_DATA_DIR}, or $SCALE_DATA_DIR)",
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=None,
        help="where the databases and dbt targets go (default: a temporary folder, removed)",
    )
    parser.add_argument("--incremental", action="store_true", help="also measure a daily incremental run")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="dbt threads for the builds (default: the profile's; 1 keeps to one large query at a time)",
    )
    parser.add_argument("--results", type=Path, default=RESULTS, help=f"results file (default {RESULTS})")
    parser.add_argument(
        "--readme",
        type=Path,
        default=README,
        help=f"README whose scale table is rewritten with the results file (default {README})",
    )
    parser.add_argument("--no-write", action="store_true", help="do not write the results file nor the README table")
    parser.add_argument("--json", type=Path, default=None, help="also write the results as JSON here")
    parser.add_argument(
        "--add-results",
        type=Path,
        nargs="*",
        default=[],
        help="JSON files of earlier runs (--json) whose sizes join the results file",
    )
    args = parser.parse_args(argv)

    work_root = args.work_dir or Path(tempfile.mkdtemp(prefix="build_benchmark_"))
    results = []
    try:
        for customers in args.sizes:
            result = measure_size(customers, args.seed, args.data_dir, work_root, args.incremental, args.threads)
            results.append(result)
            print(
                f"{customers:>10,} customers: wall {result.wall_s:.1f} s, peak RSS {gib(result.peak_rss_bytes)}, "
                f"floor {result.floor['wall_s']:.2f} s, load {result.load_before:.2f}/{result.load_after:.2f}"
                + (f"; daily run {result.incremental['daily_wall_s']:.1f} s" if result.incremental else ""),
                file=sys.stderr,
            )
    finally:
        if args.work_dir is None:
            shutil.rmtree(work_root, ignore_errors=True)
    if args.json:
        args.json.write_text(
            json.dumps(
                {"machine": machine(), "versions": versions(), "results": [asdict(r) for r in results]}, indent=2
            )
        )
    earlier = [
        SizeResult(**{"cpu_s": 0.0, **r}) for path in args.add_results for r in json.loads(path.read_text())["results"]
    ]
    if not args.no_write:
        everything = sorted(results + earlier, key=lambda r: r.customers)
        args.results.write_text(render(everything, args, len(earlier)))
        update_readme(args.readme, readme_table(everything))
    return 0


if __name__ == "__main__":
    sys.exit(main())
