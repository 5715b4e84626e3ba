"""The discount factor of each month ahead of as_of_date: the project's one discounting rule.

customer_value.clv.discount_factors (the function predicted CLV discounts with), for
months 1 to the longer of the CLV and CRV horizons, at var annual_discount_rate. The
referral value models discount with these rows instead of a formula of their own.
"""

import numpy as np
import pyarrow as pa

from customer_value.clv import discount_factors
from customer_value.model_io import first_row, model_result


def model(dbt, session):
    dbt.config(materialized="table")
    settings = first_row(dbt.ref("int_analysis_settings"))
    months = max(int(settings["clv_horizon_months"]), int(settings["crv_horizon_months"]))
    factors = pa.table(
        {
            "month_number": pa.array(np.arange(1, months + 1), type=pa.int32()),
            "discount_factor": pa.array(discount_factors(float(settings["annual_discount_rate"]), months)),
        }
    )
    return model_result(session, factors)
