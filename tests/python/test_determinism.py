"""Same input, same output: two builds of the same files give the same bits, whatever the
number of threads (docs/validation.md, "Same input, same output").

Apart from test_bad_input.py so that pytest's two workers share the long builds.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from dbt_helpers import DbtResult, assert_build_ok, generate, run_dbt

from customer_value.compare import relation_fingerprints

#: A key for the keyed email hash, so the marts' email_key column is compared too.
SECRET = "determinism-key-5b7e21c9a04d-not-in-any-file"


def relation_hashes(result: DbtResult, schema: str) -> dict[str, str]:
    """Row count and MD5 of every relation in `schema`, without `built_at`
    (customer_value.compare, the same fingerprints as a refactor's before/after check)."""
    with duckdb.connect(str(result.database), read_only=True) as con:
        return relation_fingerprints(con, schema)


@pytest.fixture(scope="module")
def determinism_raw(tmp_path_factory) -> Path:
    """100,000 customers: enough rows for DuckDB to split scans, joins and aggregates over
    its threads (at 100,000 customers plain DOUBLE sums gave other last digits on another
    build; the ordered sums of macros/aggregates.sql do not)."""
    return generate(tmp_path_factory.mktemp("raw_determinism"), "--customers", "100000", "--seed", "21")


def test_two_builds_on_the_same_files_give_identical_marts(tmp_path, determinism_raw, monkeypatch):
    """One build on one dbt thread and one DuckDB thread, one on two of each: every mart
    and every intermediate relation the same, bit for bit."""
    monkeypatch.setenv("CUSTOMER_KEY_SECRET", SECRET)
    monkeypatch.setenv("DUCKDB_THREADS", "1")
    one_thread = run_dbt(determinism_raw, tmp_path / "threads_1", "--threads", "1")
    monkeypatch.setenv("DUCKDB_THREADS", "2")
    two_threads = run_dbt(determinism_raw, tmp_path / "threads_2", "--threads", "2")
    assert_build_ok(one_thread)
    assert_build_ok(two_threads)
    for schema in ("marts", "intermediate"):
        hashes = relation_hashes(one_thread, schema)
        assert relation_hashes(two_threads, schema) == hashes, schema
    assert {"customer_segments", "clv_model_parameters"} <= set(relation_hashes(one_thread, "marts"))


def test_clv_fit_does_not_depend_on_the_thread_count(monkeypatch):
    from test_clv import simulate

    import customer_value.clv._common as common
    from customer_value.clv import fit_bgnbd, fit_gamma_gamma

    frequency, recency, age, spend, _ = simulate(3000, seed=8)
    monkeypatch.setattr(common, "_PARALLEL_MIN_ROWS", 500)
    fits = []
    for threads in (1, 2, 3):
        monkeypatch.setattr(common, "N_THREADS", threads)
        monkeypatch.setattr(common, "_executor", None)
        bgnbd = fit_bgnbd(frequency, recency, age)
        gamma_gamma = fit_gamma_gamma(frequency, spend)
        assert bgnbd.converged and gamma_gamma.converged
        fits.append((bgnbd.params, bgnbd.log_likelihood, gamma_gamma.params, gamma_gamma.log_likelihood))
    assert fits[0] == fits[1] == fits[2]
