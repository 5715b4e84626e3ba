"""The purchase models, side by side: BG/NBD, MBG/NBD and Pareto/NBD.

``PURCHASE_MODELS[name]`` is a :class:`PurchaseModel`: the model's parameter names, fit
class and functions, all with one signature per role, so that callers (predicted CLV,
the parameter tables, intervals, reports) never branch on the model::

    model = PURCHASE_MODELS["pareto_nbd"]            # or purchase_model_of(fit)
    fit = model.fit(frequency, recency, T)
    model.probability_alive(x, t_x, T, fit)
    model.expected_purchases(52.0, x, t_x, T, fit)

The three differ only in how customers stop buying: BG/NBD after a repeat purchase
(one-time buyers are certainly alive), MBG/NBD also right after the first purchase,
Pareto/NBD at any moment (exponential lifetimes).  Their fits share one procedure and
the same guarantees (:mod:`customer_value.clv._purchase_common`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from . import bgnbd, intervals, mbgnbd, paretonbd
from ._common import CountMoments, FloatArray
from .bgnbd import BgNbdFit
from .mbgnbd import MbgNbdFit
from .paretonbd import ParetoNbdFit

#: A fitted purchase model of any kind.
PurchaseFit = BgNbdFit | MbgNbdFit | ParetoNbdFit


@dataclass(frozen=True)
class PurchaseModel:
    """One purchase model's parts, each with the same signature in every model.

    ``x``, ``t_x`` and ``T`` are a customer summary (frequency, recency and age in weeks),
    ``t`` a horizon in weeks after T, ``fit`` an instance of ``fit_class``.  The public
    functions validate their input and raise :class:`ModelNotFittedError` for a fit that
    did not converge; the ``*_raw`` ones are for callers that have validated rows and a
    converged fit already (:func:`customer_value.clv.predict_clv`).
    """

    #: key in PURCHASE_MODELS and model_name in the parameter tables, e.g. "pareto_nbd"
    name: str
    #: e.g. "Pareto/NBD", as in messages
    label: str
    #: parameter names, in the order of ``fit.require_fitted()`` and of ``log_covariance``
    param_names: tuple[str, ...]
    fit_class: type
    #: ``fit(frequency, recency, T, weights=None, *, penalizer=0.0, min_customers=MIN_CUSTOMERS)``
    fit: Callable[..., Any]
    #: ``log_likelihood(frequency, recency, T, *params, weights=None) -> float``
    log_likelihood: Callable[..., float]
    #: ``probability_alive(x, t_x, T, fit)``: P(alive at T | history)
    probability_alive: Callable[[Any, Any, Any, Any], FloatArray]
    #: ``expected_purchases(t, x, t_x, T, fit)``: E[purchases in (T, T+t] | history]
    expected_purchases: Callable[[Any, Any, Any, Any, Any], FloatArray]
    #: ``expected_purchases_by_period(x, t_x, T, fit, period_ends_weeks)``: per period,
    #: ``(n_customers, n_periods)``
    expected_purchases_by_period: Callable[[Any, Any, Any, Any, Any], FloatArray]
    #: ``probability_of_purchases(x, t, fit)``: the unconditional P(X(t) = x)
    probability_of_purchases: Callable[[Any, Any, Any], FloatArray]
    #: ``expected_repeat_purchase_counts(T, fit, max_frequency)``: the model-fit histogram
    expected_repeat_purchase_counts: Callable[[Any, Any, int], FloatArray]
    #: ``probability_alive_raw(x, t_x, T, *params)`` on validated rows (t_x of one-time buyers 0)
    probability_alive_raw: Callable[..., FloatArray]
    #: ``cumulative_if_alive_by_pair(x, T, period_ends, params)``: E[purchases in
    #: (T, T + end] | alive at T] on the distinct (x, T) pairs, as ``(pair index per row,
    #: matrix[n_pairs, n_periods])``; the conditional expectation is P(alive) times this
    cumulative_if_alive_by_pair: Callable[
        [FloatArray, FloatArray, FloatArray, tuple[float, ...]], tuple[np.ndarray, FloatArray]
    ]

    def params_of(self, fit: PurchaseFit) -> tuple[float, ...]:
        """The fit's parameters in ``param_names`` order (NaN if not converged)."""
        return tuple(float(getattr(fit, name)) for name in self.param_names)

    def count_moments(self, t: Any, x: Any, t_x: Any, T: Any, fit: PurchaseFit) -> CountMoments:
        """The posterior predictive distribution of the purchase days in the next ``t``
        weeks (P(N = 0), E[N], E[N^2]) given the history, for the CLV intervals
        (:func:`customer_value.clv.intervals.count_moments`)."""
        alive = self.probability_alive(x, t_x, T, fit)
        return intervals.count_moments(self.name, t, x, T, alive, self.params_of(fit))


def _from_module(
    name: str,
    label: str,
    module: ModuleType,
    prefix: str,
    fit_class: type,
) -> PurchaseModel:
    """A model's parts from its module, where they follow one naming scheme:
    ``fit_<prefix>``, ``<prefix>_<role>`` and the raw ``probability_alive_raw`` and
    ``cumulative_if_alive_by_pair``."""

    def public(role: str) -> Any:
        return getattr(module, f"{prefix}_{role}")

    return PurchaseModel(
        name=name,
        label=label,
        param_names=fit_class.PARAM_NAMES,  # type: ignore[attr-defined]
        fit_class=fit_class,
        fit=getattr(module, f"fit_{prefix}"),
        log_likelihood=public("log_likelihood"),
        probability_alive=public("probability_alive"),
        expected_purchases=public("expected_purchases"),
        expected_purchases_by_period=public("expected_purchases_by_period"),
        probability_of_purchases=public("probability_of_purchases"),
        expected_repeat_purchase_counts=public("expected_repeat_purchase_counts"),
        probability_alive_raw=module.probability_alive_raw,
        cumulative_if_alive_by_pair=module.cumulative_if_alive_by_pair,
    )


BG_NBD = _from_module("bg_nbd", "BG/NBD", bgnbd, "bgnbd", BgNbdFit)
MBG_NBD = _from_module("mbg_nbd", "MBG/NBD", mbgnbd, "mbgnbd", MbgNbdFit)
PARETO_NBD = _from_module("pareto_nbd", "Pareto/NBD", paretonbd, "paretonbd", ParetoNbdFit)

#: The purchase models by name (the model_name of their rows in the parameter tables).
PURCHASE_MODELS: dict[str, PurchaseModel] = {m.name: m for m in (BG_NBD, MBG_NBD, PARETO_NBD)}

_BY_FIT_CLASS: dict[type, PurchaseModel] = {m.fit_class: m for m in PURCHASE_MODELS.values()}


def purchase_model_of(fit: object) -> PurchaseModel:
    """The :class:`PurchaseModel` a fit result belongs to (by its exact class);
    ``TypeError`` for anything that is not a purchase model's fit."""
    model = _BY_FIT_CLASS.get(type(fit))
    if model is None:
        known = ", ".join(cls.__name__ for cls in _BY_FIT_CLASS)
        raise TypeError(f"not a purchase model fit: {type(fit).__name__} (expected one of {known})")
    return model
