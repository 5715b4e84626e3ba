"""Fit the BG/NBD and Gamma-Gamma models by maximum likelihood inside `dbt build`.

Reads the per-customer purchase summary and writes one row per model and parameter
(customer_value.clv.tables.parameter_table). A model that cannot be fitted gets NULL
values and its reason in fit_message; predictions built on it are then NULL too.
"""

from customer_value.clv import fit_bgnbd, fit_gamma_gamma
from customer_value.clv.tables import numeric_column, parameter_table


def model(dbt, session):
    dbt.config(materialized="table")
    # Rows in a fixed order: the optimum found depends on the order of the floating-point
    # sums, and DuckDB hands rows over in whatever order its threads wrote them.
    summary = (
        dbt.ref("int_customers_rfm_summarised")
        .project("customer_id, frequency, recency_weeks, t_weeks, monetary_value")
        .to_arrow_table()
        .sort_by("customer_id")
    )
    settings = dbt.ref("int_analysis_settings").to_arrow_table().to_pylist()[0]
    min_customers = int(settings["clv_min_customers"])
    frequency = numeric_column(summary, "frequency")

    fits = {
        "bg_nbd": fit_bgnbd(
            frequency,
            numeric_column(summary, "recency_weeks"),
            numeric_column(summary, "t_weeks"),
            min_customers=min_customers,
        ),
        "gamma_gamma": fit_gamma_gamma(
            frequency, numeric_column(summary, "monetary_value"), min_customers=min_customers
        ),
    }
    return parameter_table(fits, settings["as_of_date"])
