"""Data sets shared by the whole pytest session: each is generated and built once."""

from __future__ import annotations

import inspect
import os
import shutil
import sys
from pathlib import Path

import pytest
from filelock import FileLock

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dbt_helpers import DbtResult, assert_build_ok, generate, run_dbt


@pytest.fixture(scope="session")
def clean_build(tmp_path_factory):
    """3,000 generated customers (seed 7), every table, no faults, built with the defaults
    (unit tests included). Built once per session: with pytest-xdist (`-n 2`) the first
    worker that needs it builds it, the others wait for it and read the same files. Only
    read it: a test that writes must work on a copy (test_semantic_layer does)."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the session's folder, shared by its workers
    raw, work = root / "raw_clean", root / "build_clean"
    built = work / "build-output.txt"
    with FileLock(str(root / "clean_build.lock")):
        if not built.exists():
            shutil.rmtree(raw, ignore_errors=True)
            shutil.rmtree(work, ignore_errors=True)
            generate(raw, "--customers", "3000", "--seed", "7")
            result = run_dbt(raw, work, unit_tests=True)
            assert_build_ok(result)
            built.write_text(result.output)
    return raw, DbtResult(0, built.read_text(), work / "test.duckdb", work / "serving")


#: What makes a test slow: it runs dbt, the generator or another program (each costs
#: seconds to minutes), itself or through a fixture it uses.
SLOW_CALLS = ("run_dbt(", "generate(", "subprocess.run(", "run_cli(", "compiled(", "clean_build", "faulty_build")


def _calls_something_slow(function) -> bool:
    try:
        source = inspect.getsource(function)
    except (OSError, TypeError):
        return False
    return any(call in source for call in SLOW_CALLS)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark `slow` every test that builds with dbt or runs a program, directly or through
    one of its fixtures: `pytest -m "not slow"` is the fast loop (statistics and pure
    Python, well under a minute; scripts/test.sh --fast)."""
    for item in items:
        functions = [getattr(item, "function", None)]
        fixture_info = getattr(item, "_fixtureinfo", None)
        if fixture_info is not None:
            for name in fixture_info.names_closure:
                for definition in fixture_info.name2fixturedefs.get(name, ()):
                    functions.append(definition.func)
        if any(_calls_something_slow(function) for function in functions if function is not None):
            item.add_marker(pytest.mark.slow)
