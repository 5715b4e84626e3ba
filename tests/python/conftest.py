"""Data sets shared by the whole pytest session: each is generated and built once."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dbt_helpers import assert_build_ok, generate, run_dbt


@pytest.fixture(scope="session")
def clean_build(tmp_path_factory):
    """3,000 generated customers (seed 7), every table, no faults, built with the defaults."""
    raw = generate(tmp_path_factory.mktemp("raw_clean"), "--customers", "3000", "--seed", "7")
    result = run_dbt(raw, tmp_path_factory.mktemp("build_clean"), unit_tests=True)
    assert_build_ok(result)
    return raw, result


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
