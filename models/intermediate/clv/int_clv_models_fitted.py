"""Fit the BG/NBD and Gamma-Gamma models by maximum likelihood inside `dbt build`.

Reads the per-customer purchase summary (int_customers_rfm_summarised) and writes one
row per model and parameter, with the log-likelihood, the number of customers the
model saw, the as_of_date and whether the fit converged. A model that cannot be
fitted (too few customers, nobody repeats, a degenerate optimum) gets NULL values and
its reason in fit_message; predictions built on it are then NULL with that reason.
The statistics live in the `customer_value.clv` package, tested against simulated
ground truth and against the lifetimes library.
"""

import numpy as np
import pyarrow as pa

from customer_value.clv import fit_bgnbd, fit_gamma_gamma


def column(table: pa.Table, name: str) -> np.ndarray:
    """A numeric column as float64, NULL as NaN."""
    return table[name].to_numpy(zero_copy_only=False).astype("float64")


def parameter_rows(model_name, fit, names, as_of_date):
    """One output row per parameter of a fitted (or unfitted) model."""
    errors = fit.standard_errors or {}
    return [
        {
            "model_name": model_name,
            "parameter_name": name,
            "parameter_value": float(getattr(fit, name)) if fit.converged else None,
            "standard_error": errors.get(name) if fit.converged else None,
            "log_likelihood": float(fit.log_likelihood) if fit.converged else None,
            "n_customers": int(fit.n_customers),
            "as_of_date": as_of_date,
            "is_converged": bool(fit.converged),
            "fit_message": fit.message,
        }
        for name in names
    ]


def model(dbt, session):
    dbt.config(materialized="table")
    # Rows in a fixed order: the optimum found depends on the order of the floating-point
    # sums, and DuckDB hands rows over in whatever order its threads wrote them.
    summary = dbt.ref("int_customers_rfm_summarised").to_arrow_table().sort_by("customer_id")
    settings = dbt.ref("int_analysis_settings").to_arrow_table().to_pylist()[0]
    min_customers = int(settings["clv_min_customers"])

    frequency = column(summary, "frequency")
    recency = column(summary, "recency_weeks")
    age = column(summary, "t_weeks")
    monetary = column(summary, "monetary_value")

    bgnbd = fit_bgnbd(frequency, recency, age, min_customers=min_customers)
    gamma_gamma = fit_gamma_gamma(frequency, monetary, min_customers=min_customers)

    rows = parameter_rows("bg_nbd", bgnbd, ["r", "alpha", "a", "b"], settings["as_of_date"])
    rows += parameter_rows("gamma_gamma", gamma_gamma, ["p", "q", "v"], settings["as_of_date"])
    schema = pa.schema(
        [
            ("model_name", pa.string()),
            ("parameter_name", pa.string()),
            ("parameter_value", pa.float64()),
            ("standard_error", pa.float64()),
            ("log_likelihood", pa.float64()),
            ("n_customers", pa.int64()),
            ("as_of_date", pa.date32()),
            ("is_converged", pa.bool_()),
            ("fit_message", pa.string()),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)
