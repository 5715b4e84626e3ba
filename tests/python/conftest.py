"""Data sets shared by the whole pytest session: each is generated and built once."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dbt_helpers import assert_build_ok, generate, run_dbt


@pytest.fixture(scope="session")
def clean_build(tmp_path_factory):
    """3,000 generated customers (seed 7), every table, no faults, built with the defaults."""
    raw = generate(tmp_path_factory.mktemp("raw_clean"), "--customers", "3000", "--seed", "7")
    result = run_dbt(raw, tmp_path_factory.mktemp("build_clean"))
    assert_build_ok(result)
    return raw, result
