"""customer_value.model_io: what lets one Python model file serve DuckDB and Spark.

On Spark, int_customers_clv_predicted scores each batch of each partition on its own
(mapInArrow); that is only right if a customer's prediction does not depend on which
other customers are scored with it. Checked here on the shared build's customers, cut
into uneven batches in another order, against one call on all of them.
"""

from __future__ import annotations

from functools import partial
from itertools import pairwise

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from customer_value.clv.tables import fit_from_table, prediction_batches
from customer_value.model_io import arrow_table, first_row, is_spark, map_customers, model_result, spark_schema

SUMMARY_COLUMNS = "customer_id, frequency, recency_weeks, t_weeks, monetary_value, margin_rate"


def test_arrow_table_first_row_and_result_on_duckdb():
    con = duckdb.connect()
    relation = con.sql("select * from (values ('b', 2, 'x'), ('a', 1, 'y')) as t(customer_id, n, label)")
    assert not is_spark(relation) and not is_spark(con)
    table = arrow_table(relation, "customer_id, n", sort_by="customer_id")
    assert table.column_names == ["customer_id", "n"]
    assert table["customer_id"].to_pylist() == ["a", "b"]
    assert first_row(con.sql("select 3 as x, 'z' as y")) == {"x": 3, "y": "z"}
    with pytest.raises(ValueError, match="one row"):
        first_row(con.sql("select 1 as x where false"))
    assert model_result(con, table) is table


def test_spark_schema_replaces_large_types():
    schema = pa.schema(
        [
            ("months", pa.large_list(pa.float64())),
            ("name", pa.large_string()),
            ("nested", pa.list_(pa.large_string())),
            ("n", pa.int64()),
        ]
    )
    assert spark_schema(schema) == pa.schema(
        [
            ("months", pa.list_(pa.float64())),
            ("name", pa.string()),
            ("nested", pa.list_(pa.string())),
            ("n", pa.int64()),
        ]
    )


def test_predictions_do_not_depend_on_the_batch(clean_build):
    _, build = clean_build
    con = duckdb.connect(str(build.database), read_only=True)
    parameters = con.sql("select * from intermediate.int_clv_models_fitted").to_arrow_table()
    [(chosen,)] = con.execute("select model_name from intermediate.int_clv_models_compared where is_chosen").fetchall()
    summary = con.sql(f"select {SUMMARY_COLUMNS} from intermediate.int_customers_rfm_summarised")
    score = partial(
        prediction_batches,
        purchase_fit=fit_from_table(parameters, chosen),
        gamma_gamma=fit_from_table(parameters, "gamma_gamma"),
        horizon_months=12,
        annual_discount_rate=0.1,
        list_months=12,
    )

    whole = map_customers(summary, SUMMARY_COLUMNS, score).read_all()
    assert whole["customer_id"].to_pylist() == sorted(whole["customer_id"].to_pylist())

    shuffled = arrow_table(summary).take(np.random.default_rng(3).permutation(whole.num_rows))
    cuts = [0, 1, 8, 300, 301, 1500, shuffled.num_rows]
    batched = pa.concat_tables(
        score(shuffled.slice(start, stop - start)).read_all() for start, stop in pairwise(cuts)
    ).sort_by("customer_id")

    assert batched.num_rows == whole.num_rows and batched.schema == whole.schema
    assert batched["customer_id"].equals(whole["customer_id"])
    assert batched["clv_prediction_reason"].equals(whole["clv_prediction_reason"])
    for name in ("predicted_clv", "probability_alive", "expected_purchases", "predicted_clv_low", "predicted_clv_high"):
        a, b = (table[name].to_numpy(zero_copy_only=False).astype(float) for table in (whole, batched))
        assert np.array_equal(np.isnan(a), np.isnan(b)), name
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12, err_msg=name)
    months = [np.asarray(row or [], dtype=float) for row in whole["expected_margin_by_month"].to_pylist()]
    months_batched = [np.asarray(row or [], dtype=float) for row in batched["expected_margin_by_month"].to_pylist()]
    for a, b in zip(months, months_batched, strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12)
