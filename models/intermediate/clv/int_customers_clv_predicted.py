"""Predict each buyer's purchases, spend and CLV from the fitted models.

One row per customer of int_customers_rfm_summarised: probability_alive,
expected_purchases and expected_spend over the CLV horizon, predicted_clv
(customer_value.clv.predict_clv: monthly expected margin, discounted), and
expected_margin_by_month, the undiscounted margin of each month over the longer of the
CLV and CRV horizons, which the referral value models use. NULL with
clv_prediction_reason when a model could not be fitted.
"""

import pyarrow as pa

from customer_value.clv import predict_clv
from customer_value.clv.tables import fit_from_table, margin_by_month_array, numeric_column

CHUNK_ROWS = 500_000


def model(dbt, session):
    dbt.config(materialized="table")
    # Rows in a fixed order, so that every chunk holds the same customers on every build
    # (numpy's vectorised sums can round differently for a different mix of rows).
    summary = (
        dbt.ref("int_customers_rfm_summarised")
        .project("customer_id, frequency, recency_weeks, t_weeks, monetary_value, margin_rate")
        .to_arrow_table()
        .sort_by("customer_id")
    )
    settings = dbt.ref("int_analysis_settings").to_arrow_table().to_pylist()[0]
    parameters = dbt.ref("int_clv_models_fitted").to_arrow_table()
    bgnbd = fit_from_table(parameters, "bg_nbd")
    gamma_gamma = fit_from_table(parameters, "gamma_gamma")

    frequency, recency, age = (numeric_column(summary, name) for name in ("frequency", "recency_weeks", "t_weeks"))
    monetary_value = numeric_column(summary, "monetary_value")
    margin_rate = numeric_column(summary, "margin_rate")
    months = max(int(settings["clv_horizon_months"]), int(settings["crv_horizon_months"]))

    def predicted(rows: slice) -> pa.Table:
        prediction = predict_clv(
            frequency[rows],
            recency[rows],
            age[rows],
            monetary_value[rows],
            bgnbd,
            gamma_gamma,
            horizon_months=int(settings["clv_horizon_months"]),
            margin_rate=margin_rate[rows],
            annual_discount_rate=float(settings["annual_discount_rate"]),
        )
        output = prediction.to_arrow(summary["customer_id"][rows])
        output = output.append_column("margin_rate", pa.array(margin_rate[rows], type=pa.float64()))
        return output.append_column(
            "expected_margin_by_month",
            margin_by_month_array(
                frequency[rows], recency[rows], age[rows], prediction.expected_spend, margin_rate[rows], bgnbd, months
            ),
        )

    # Customers a chunk at a time, streamed to DuckDB as Arrow record batches: ten million
    # customers' predictions and month lists would otherwise sit in memory at once.
    first = predicted(slice(0, CHUNK_ROWS))

    def batches():
        yield from first.to_batches()
        for start in range(CHUNK_ROWS, summary.num_rows, CHUNK_ROWS):
            yield from predicted(slice(start, start + CHUNK_ROWS)).to_batches()

    return pa.RecordBatchReader.from_batches(first.schema, batches())
