"""Helpers for tests that generate raw data and run dbt on it."""

from __future__ import annotations

import atexit
import os
import pprint
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from customer_value.compare import BUILD_TIME_COLUMNS

PROJECT_DIR = Path(__file__).resolve().parents[2]
DBT = str(Path(sys.executable).with_name("dbt"))


@dataclass
class DbtResult:
    """Outcome of one dbt invocation."""

    returncode: int
    output: str
    database: Path
    serving_dir: Path

    def query(self, sql: str) -> list[tuple]:
        """Run a read-only query against the database the build wrote."""
        with duckdb.connect(str(self.database), read_only=True) as con:
            return con.execute(sql).fetchall()


def generate(out: Path, *args: str) -> Path:
    """Run the project's data generator into `out`."""
    subprocess.run(
        [sys.executable, "-m", "customer_value.generator", "--out", str(out), "--quiet", *args],
        check=True,
        cwd=PROJECT_DIR,
    )
    return out


def rewrite_parquet(path: Path, select: str) -> None:
    """Replace the Parquet file `path` by the rows of `select`, a query over its current
    rows as table `t` (how the tests break a raw file in one way)."""
    with duckdb.connect() as con:
        con.execute(f"create table t as select * from read_parquet('{path}')")
        con.execute(f"copy ({select}) to '{path}' (format parquet)")


#: The parse each test's build can reuse (dbt's partial parsing, see `_reuse_parse`): for
#: each --vars, the partial_parse.msgpack of the first run with them, its profile's
#: connection info and that profile's hash.
_parse_templates: dict[str | None, tuple[Path, list, str]] = {}
_template_dir: Path | None = None


def _connection_info(env: dict[str, str]) -> list[tuple]:
    """The profile's connection info as dbt hashes it for partial parsing (the profile hash
    of ManifestLoader.build_manifest_state_check), rendered with `env`."""
    from argparse import Namespace

    from dbt.config.runtime import load_profile
    from dbt.flags import set_from_args
    from dbt_common.context import set_invocation_context

    set_invocation_context(env)
    set_from_args(Namespace(PROFILES_DIR=env["DBT_PROFILES_DIR"]), None)
    return sorted(load_profile(str(PROJECT_DIR), {}).credentials.connection_info())


def _profile_hash(info: list[tuple]) -> str:
    from dbt.contracts.files import FileHash

    return FileHash.from_contents(pprint.pformat(info)).checksum


def _without_path(info: list[tuple]) -> list[tuple]:
    return [(key, value) for key, value in info if key != "path"]


def _vars_of(args: tuple[str, ...]) -> str | None:
    return args[args.index("--vars") + 1] if "--vars" in args else None


def _reuse_parse(work_dir: Path, args: tuple[str, ...], env: dict[str, str]) -> tuple[list, str | None]:
    """Give a run a parse to reuse: each work dir has its own target/ and database file, so
    dbt parses the whole project again (8-10 s) on every first run in a work dir. dbt
    reparses from scratch when --vars, the profile or the env vars of dbt_project.yml
    changed, and reparses the files whose env_var() values changed (RAW_DATA_DIR). The
    profile differs between work dirs only in the database path, which no model reads
    while parsing: so a run gets the partial_parse.msgpack of the first run with the
    same --vars and an otherwise identical profile, with the saved profile hash replaced
    by this run's (also in a work dir whose last run had other --vars). Everything else dbt checks itself (files changed since, env
    vars used in models, dbt version). Measured: the manifest is the same as a full
    parse's but for timestamps. DBT_TEST_REUSE_PARSE=0 turns it off."""
    if os.environ.get("DBT_TEST_REUSE_PARSE", "1") == "0":
        return [], None
    try:
        info = _connection_info(env)
    except Exception:  # noqa: BLE001 - a profile dbt cannot render: dbt says why in the run itself
        return [], None
    target_file = work_dir / "target" / "partial_parse.msgpack"
    template = _parse_templates.get(_vars_of(args))
    if template is not None:
        saved, saved_info, saved_hash = template
        if _without_path(saved_info) == _without_path(info):
            data = saved.read_bytes()
            # The hash is a 64-digit hex string in the msgpack: replace it in place.
            assert data.count(saved_hash.encode()) == 1, "the saved profile hash is not found once"
            target_file.parent.mkdir(parents=True, exist_ok=True)
            target_file.write_bytes(data.replace(saved_hash.encode(), _profile_hash(info).encode()))
    return info, _vars_of(args)


def _keep_parse(work_dir: Path, info: list, key: str | None) -> None:
    """After the first run with these --vars: keep its parse for the next work dirs."""
    global _template_dir
    target_file = work_dir / "target" / "partial_parse.msgpack"
    if not info or key in _parse_templates or not target_file.exists():
        return
    if _template_dir is None:
        _template_dir = Path(tempfile.mkdtemp(prefix="dbt-parse-"))
        atexit.register(shutil.rmtree, _template_dir, True)
    saved = _template_dir / f"{len(_parse_templates)}.msgpack"
    shutil.copyfile(target_file, saved)
    profile_hash = _profile_hash(info)
    if saved.read_bytes().count(profile_hash.encode()) == 1:
        _parse_templates[key] = (saved, info, profile_hash)


def run_dbt(raw_dir: Path, work_dir: Path, *args: str, command: str = "build", unit_tests: bool = False) -> DbtResult:
    """Run a dbt command on raw files in `raw_dir`, writing only inside `work_dir`.

    The database is `work_dir/test.duckdb`, the serving copy goes to `work_dir/serving`,
    and dbt imports this checkout's `customer_value` package (its plugin and models).
    `dbt build` leaves out the unit tests unless `unit_tests`: they do not read the raw
    data, and scripts/test.sh runs them in its own build (as does the `clean_build`
    fixture); each build's data tests run.
    """
    database = work_dir / "test.duckdb"
    serving_dir = work_dir / "serving"
    env = {
        **os.environ,
        "RAW_DATA_DIR": str(raw_dir),
        "DBT_DUCKDB_PATH": str(database),
        "DBT_PROFILES_DIR": str(PROJECT_DIR),
        "SERVING_DIR": str(serving_dir),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_DIR), os.environ.get("PYTHONPATH")])),
    }
    if command == "build" and not unit_tests:
        args = ("--exclude-resource-type", "unit_test", *args)
    info, key = _reuse_parse(work_dir, args, env)
    completed = subprocess.run(
        [
            DBT,
            command,
            "--target-path",
            str(work_dir / "target"),
            "--log-path",
            str(work_dir / "logs"),
            *args,
        ],
        check=False,
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    _keep_parse(work_dir, info, key)
    return DbtResult(completed.returncode, completed.stdout + completed.stderr, database, serving_dir)


def assert_build_ok(result: DbtResult) -> None:
    """The dbt command succeeded and printed no warning."""
    assert result.returncode == 0, result.output[-5000:]
    assert "[WARNING]" not in result.output, result.output[-5000:]


def relation_differences(
    database_a: Path, database_b: Path, relations: list[str], rel_tol: float | None = None
) -> dict:
    """For each relation ("schema.name") that differs: (rows only in a, rows only in b),
    compared as multisets (`except all`, both ways). With rel_tol, floating columns may
    differ by that relative tolerance (parallel sums and fits started from rows in another
    order differ in their last bits): rows are matched on all other columns. The columns
    that record when a build ran (`built_at`) are left out."""
    differences = {}
    with duckdb.connect() as con:
        con.execute(f"attach '{database_a}' as a (read_only)")
        con.execute(f"attach '{database_b}' as b (read_only)")
        for relation in relations:
            schema, name = relation.split(".")
            columns = con.execute(
                "select column_name, data_type from information_schema.columns"
                " where table_catalog = 'a' and table_schema = ? and table_name = ? order by ordinal_position",
                [schema, name],
            ).fetchall()
            columns = [(c, t) for c, t in columns if c not in BUILD_TIME_COLUMNS]
            listed = ", ".join(f'"{c}"' for c, _ in columns)
            floats = [f'"{c}"' for c, t in columns if rel_tol is not None and t in ("DOUBLE", "FLOAT", "DOUBLE[]")]
            exact = [f'"{c}"' for c, t in columns if f'"{c}"' not in floats]
            if not floats:
                counts = [
                    con.execute(
                        f"select count(*) from (select {listed} from {x}.{relation}"
                        f" except all select {listed} from {y}.{relation})"
                    ).fetchone()[0]
                    for x, y in (("a", "b"), ("b", "a"))
                ]
            else:
                on = " and ".join(f"x.{c} is not distinct from y.{c}" for c in exact) or "true"
                close = " and ".join(
                    f"(x.{c} is not distinct from y.{c} or list_sum(list_transform(list_zip("
                    f"flatten([x.{c}]), flatten([y.{c}])), lambda v: abs(v[1] - v[2]) > {rel_tol} * greatest(abs(v[1]), abs(v[2]), 1e-12)"
                    f")) = 0)"
                    if t == "DOUBLE[]"
                    else f"(x.{c} is not distinct from y.{c} or abs(x.{c} - y.{c}) <= {rel_tol} * greatest(abs(x.{c}), abs(y.{c})))"
                    for c, t in ((f'"{c}"', t) for c, t in columns if f'"{c}"' in floats)
                )
                counts = [
                    con.execute(
                        f"select count(*) from {x}.{relation} as x"
                        f" where not exists (select 1 from {y}.{relation} as y where {on} and {close})"
                    ).fetchone()[0]
                    for x, y in (("a", "b"), ("b", "a"))
                ]
            if any(counts):
                differences[relation] = tuple(counts)
    return differences


def mart_relations(database: Path) -> list[str]:
    """Every table and view of the marts schema, as "marts.name"."""
    with duckdb.connect(str(database), read_only=True) as con:
        return [
            f"marts.{name}"
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
            ).fetchall()
        ]
