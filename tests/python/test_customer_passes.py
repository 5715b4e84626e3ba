"""The wide per-customer models built in passes over customer buckets give what one pass
gives (docs/scale.md, "10,000,000 customers"; macros/materializations/table_in_passes.sql).

A pass sees only its customers: a percentile rank, a population average or any other
computation over all customers that read a pass-filtered import would differ here.
"""

from __future__ import annotations

import duckdb
from dbt_helpers import assert_build_ok, run_dbt

from customer_value.compare import relation_fingerprints

#: The models materialized table_in_passes.
MODELS_IN_PASSES = {
    "int_customers_measures_joined",
    "int_customers_segmented",
    "int_social_scores_computed",
    "customer_segments",
    "int_customers_clv_summarised",
    "int_customers_crv_computed",
}


def test_eight_passes_give_the_marts_and_intermediate_models_of_one_pass(clean_build, tmp_path):
    raw, one_pass = clean_build  # 3,000 customers, the default customers_per_pass: one pass
    passes = run_dbt(raw, tmp_path / "passes", "--vars", "{customers_per_pass: 400}")
    assert_build_ok(passes)
    log = (tmp_path / "passes" / "logs" / "dbt.log").read_text()
    for model in MODELS_IN_PASSES:
        assert f"{model}: 8 passes over customer buckets" in log, model
    for schema in ("marts", "intermediate"):
        with duckdb.connect(str(one_pass.database), read_only=True) as con:
            expected = relation_fingerprints(con, schema)
        with duckdb.connect(str(passes.database), read_only=True) as con:
            actual = relation_fingerprints(con, schema)
        # The one relation that differs is the setting itself.
        expected.pop("int_analysis_settings", None)
        actual.pop("int_analysis_settings", None)
        assert actual == expected, schema
    with duckdb.connect(str(passes.database), read_only=True) as con:
        assert con.execute("select customers_per_pass from intermediate.int_analysis_settings").fetchone() == (400,)
