"""Customer lifetime value models (docs/measures.md, "Customer lifetime value").

Maximum-likelihood BG/NBD (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy
Way") for purchase frequency and survival, Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM
and CLV: Using Iso-Value Curves") for spend, the discounted monthly CLV sum, and its
prediction interval (``intervals``: the predictive distribution of purchases for the
BG/NBD, MBG/NBD and Pareto/NBD, and of the value over the horizon).

Inputs are the standard per-customer summary: ``frequency`` = distinct purchase days - 1,
``recency`` and ``T`` in weeks (days / 7), ``monetary`` = mean of the repeat purchase
days' totals.  Everything is numpy-vectorised; fits work on distinct combinations.

Failure model: ``fit_*`` never raise on data; they return ``converged=False``, NaN
parameters and a ``message``.  The low-level prediction functions then raise
:class:`ModelNotFittedError`; :func:`predict_clv` instead returns NaN +
``available=False`` + ``reason`` per customer, and :meth:`ClvPrediction.to_arrow`
turns those into SQL NULLs plus a reason column.
"""

from ._common import MIN_CUSTOMERS, CountMoments, ModelNotFittedError, numerical_hessian
from .bgnbd import (
    BgNbdFit,
    bgnbd_expected_purchases,
    bgnbd_expected_purchases_by_period,
    bgnbd_expected_repeat_purchase_counts,
    bgnbd_log_likelihood,
    bgnbd_probability_alive,
    bgnbd_probability_of_purchases,
    fit_bgnbd,
)
from .gamma_gamma import (
    GammaGammaFit,
    fit_gamma_gamma,
    gamma_gamma_expected_spend,
    gamma_gamma_log_likelihood,
)
from .intervals import (
    ClvValueDistribution,
    bgnbd_count_moments,
    clv_intervals,
    clv_value_distribution,
    count_moments,
    mbgnbd_count_moments,
    paretonbd_count_moments,
)
from .predict import (
    WEEKS_PER_MONTH,
    ClvPrediction,
    discount_factors,
    month_end_weeks,
    monthly_discount_rate,
    predict_clv,
)

__all__ = [
    "MIN_CUSTOMERS",
    "WEEKS_PER_MONTH",
    "BgNbdFit",
    "ClvPrediction",
    "ClvValueDistribution",
    "CountMoments",
    "GammaGammaFit",
    "ModelNotFittedError",
    "bgnbd_count_moments",
    "bgnbd_expected_purchases",
    "bgnbd_expected_purchases_by_period",
    "bgnbd_expected_repeat_purchase_counts",
    "bgnbd_log_likelihood",
    "bgnbd_probability_alive",
    "bgnbd_probability_of_purchases",
    "clv_intervals",
    "clv_value_distribution",
    "count_moments",
    "discount_factors",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "gamma_gamma_expected_spend",
    "gamma_gamma_log_likelihood",
    "mbgnbd_count_moments",
    "month_end_weeks",
    "monthly_discount_rate",
    "numerical_hessian",
    "paretonbd_count_moments",
    "predict_clv",
]
