"""Fit every purchase model (BG/NBD, MBG/NBD, Pareto/NBD) and Gamma-Gamma by maximum
likelihood inside `dbt build`, on the purchase summary at as_of_date.

One row per model and parameter (customer_value.clv.tables.parameter_table). A model that
cannot be fitted gets NULL values and its reason in fit_message. Which purchase model the
predictions use is int_clv_models_compared's choice.
"""

from customer_value.clv import fit_gamma_gamma
from customer_value.clv.purchase_models import PURCHASE_MODELS
from customer_value.clv.tables import numeric_column, parameter_table
from customer_value.model_io import arrow_table, first_row, model_result


def model(dbt, session):
    dbt.config(materialized="table")
    # Rows in a fixed order: the optimum found depends on the order of the floating-point
    # sums, and the engine hands rows over in whatever order its threads wrote them.
    summary = arrow_table(
        dbt.ref("int_customers_rfm_summarised"),
        "customer_id, frequency, recency_weeks, t_weeks, monetary_value",
        sort_by="customer_id",
    )
    settings = first_row(dbt.ref("int_analysis_settings"))
    min_customers = int(settings["clv_min_customers"])
    frequency = numeric_column(summary, "frequency")
    recency, age = numeric_column(summary, "recency_weeks"), numeric_column(summary, "t_weeks")

    fits = {
        name: purchase_model.fit(frequency, recency, age, min_customers=min_customers)
        for name, purchase_model in PURCHASE_MODELS.items()
    }
    fits["gamma_gamma"] = fit_gamma_gamma(
        frequency, numeric_column(summary, "monetary_value"), min_customers=min_customers
    )
    return model_result(session, parameter_table(fits, settings["as_of_date"]))
