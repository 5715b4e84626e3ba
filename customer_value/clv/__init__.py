"""Customer lifetime value models (docs/measures.md, "Customer lifetime value").

Maximum-likelihood purchase models for purchase frequency and survival: BG/NBD (Fader,
Hardie & Lee 2005, "Counting Your Customers the Easy Way"), MBG/NBD (Batislam, Denizel &
Filiztekin 2007) and Pareto/NBD (Schmittlein, Morrison & Colombo 1987), side by side in
:data:`PURCHASE_MODELS`; Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV: Using
Iso-Value Curves") for spend; and the discounted monthly CLV sum, with any of the three.
Each customer's predicted CLV comes with a prediction interval (``intervals``: the
predictive distribution of purchases under any of the three, and of the value over the
horizon).

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
from .mbgnbd import (
    MbgNbdFit,
    fit_mbgnbd,
    mbgnbd_expected_purchases,
    mbgnbd_expected_purchases_by_period,
    mbgnbd_expected_repeat_purchase_counts,
    mbgnbd_log_likelihood,
    mbgnbd_probability_alive,
    mbgnbd_probability_of_purchases,
)
from .paretonbd import (
    ParetoNbdFit,
    fit_paretonbd,
    paretonbd_expected_purchases,
    paretonbd_expected_purchases_by_period,
    paretonbd_expected_repeat_purchase_counts,
    paretonbd_log_likelihood,
    paretonbd_probability_alive,
    paretonbd_probability_of_purchases,
)
from .predict import (
    WEEKS_PER_MONTH,
    ClvPrediction,
    discount_factors,
    month_end_weeks,
    monthly_discount_rate,
    predict_clv,
)
from .purchase_models import PURCHASE_MODELS, PurchaseFit, PurchaseModel, purchase_model_of

__all__ = [
    "MIN_CUSTOMERS",
    "PURCHASE_MODELS",
    "WEEKS_PER_MONTH",
    "BgNbdFit",
    "ClvPrediction",
    "ClvValueDistribution",
    "CountMoments",
    "GammaGammaFit",
    "MbgNbdFit",
    "ModelNotFittedError",
    "ParetoNbdFit",
    "PurchaseFit",
    "PurchaseModel",
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
    "fit_mbgnbd",
    "fit_paretonbd",
    "gamma_gamma_expected_spend",
    "gamma_gamma_log_likelihood",
    "mbgnbd_count_moments",
    "mbgnbd_expected_purchases",
    "mbgnbd_expected_purchases_by_period",
    "mbgnbd_expected_repeat_purchase_counts",
    "mbgnbd_log_likelihood",
    "mbgnbd_probability_alive",
    "mbgnbd_probability_of_purchases",
    "month_end_weeks",
    "monthly_discount_rate",
    "numerical_hessian",
    "paretonbd_count_moments",
    "paretonbd_expected_purchases",
    "paretonbd_expected_purchases_by_period",
    "paretonbd_expected_repeat_purchase_counts",
    "paretonbd_log_likelihood",
    "paretonbd_probability_alive",
    "paretonbd_probability_of_purchases",
    "predict_clv",
    "purchase_model_of",
]
