"""Predicted CLV: purchases (BG/NBD, MBG/NBD or Pareto/NBD) x Gamma-Gamma spend x margin,
discounted monthly.

Conventions (docs/measures.md: "Predicted CLV sums, month by month over the horizon,
expected purchases x expected spend x margin rate, discounted"):

* A month is ``WEEKS_PER_MONTH = 365.25 / 12 / 7 ~ 4.348`` weeks.  Month m (1-based)
  of the horizon is the interval ``(T + (m-1) * WEEKS_PER_MONTH, T + m * WEEKS_PER_MONTH]``
  after the customer's own T (i.e. after ``as_of_date``).
* Expected purchases in month m are the increments of the purchase model's conditional
  expectation (BG/NBD: paper eq. 10) at those month ends.
* The annual discount rate ``i`` becomes the monthly rate ``d = (1 + i)^(1/12) - 1``;
  month m's margin is discounted by ``1 / (1 + d)^m`` (end-of-month convention).
* predicted CLV = sum_m purchases_m * E[spend] * margin_rate / (1 + d)^m.  The
  Gamma-Gamma expected spend does not depend on m, so per customer this is
  P(alive) * E[spend] * margin * sum_m disc_m * increment_m(x, T), and the sum over m is
  computed once per distinct (x, T) pair (in all three purchase models the expectation
  given alive depends on x and T only).

Missing predictions: :func:`predict_clv` never raises because of the data or because a
model could not be fitted.  A prediction that cannot be made is NaN in the arrays,
``available`` is False and ``reason`` says why; :meth:`ClvPrediction.to_arrow` turns
those NaNs into NULLs, so a dbt Python model returns NULL plus a reason column and no
NaN ever looks like a measurement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from ._common import FloatArray, as_float_array, check_same_length, chunked_map
from ._purchase_common import clean_recency, summary_validity
from .gamma_gamma import GammaGammaFit, expected_spend_raw, spend_validity
from .purchase_models import PurchaseFit, purchase_model_of

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa

#: Weeks in an average Gregorian month.
WEEKS_PER_MONTH = 365.25 / 12.0 / 7.0


def monthly_discount_rate(annual_discount_rate: float) -> float:
    """(1 + annual)^(1/12) - 1."""
    return float((1.0 + annual_discount_rate) ** (1.0 / 12.0) - 1.0)


def discount_factors(annual_discount_rate: float, months: int) -> FloatArray:
    """What 1 paid at the end of month m (1..months) after as_of_date is worth at
    as_of_date: ``1 / (1 + d)^m`` with ``d`` the monthly rate. The project's one
    discounting rule: predicted CLV uses it here, and the referral value models read the
    same factors from the dbt model int_discount_factors_computed."""
    if int(months) != months or months < 0:
        raise ValueError("months must be a non-negative integer")
    if not np.isfinite(annual_discount_rate) or annual_discount_rate <= -1.0:
        raise ValueError("annual_discount_rate must be finite and > -1")
    return (1.0 + monthly_discount_rate(annual_discount_rate)) ** -np.arange(1, int(months) + 1, dtype=np.float64)


def month_end_weeks(horizon_months: int, weeks_per_month: float = WEEKS_PER_MONTH) -> FloatArray:
    """Ends of months 1..H in weeks after T."""
    return np.arange(1, horizon_months + 1, dtype=np.float64) * weeks_per_month


@dataclass(frozen=True)
class ClvPrediction:
    """Per-customer predictions from :func:`predict_clv` (all arrays of length n).

    NaN marks "not predicted" and only ever appears together with ``available=False``
    (for ``predicted_clv``) and a non-null ``reason``; components can be available when
    the CLV is not (e.g. expected purchases without a margin rate).  Use
    :meth:`to_arrow` to hand results to SQL: NaNs become NULLs there.
    """

    #: discounted margin over the horizon
    predicted_clv: FloatArray
    #: expected number of purchases (purchase days) over the horizon, undiscounted
    expected_purchases: FloatArray
    #: Gamma-Gamma conditional expected transaction value
    expected_spend: FloatArray
    #: the purchase model's P(alive at as_of_date)
    probability_alive: FloatArray
    #: predicted_clv if the customer is alive at as_of_date (predicted_clv / P(alive), computed
    #: directly): the value at stake if they are slipping away
    predicted_clv_if_alive: FloatArray
    #: True where predicted_clv is a number
    available: np.ndarray
    #: None where available, else why not (model not fitted, invalid input, margin missing)
    reason: np.ndarray
    horizon_months: int
    annual_discount_rate: float
    monthly_discount_rate: float

    def to_arrow(self, customer_id: ArrayLike | None = None) -> pa.Table:
        """A pyarrow Table with NULL wherever a value is not predicted, and a
        ``clv_prediction_reason`` column (NULL when the CLV is available)."""
        import pyarrow as pa

        cols: dict[str, Any] = {}
        if isinstance(customer_id, pa.ChunkedArray):
            # its own type even without rows (pa.array of no values has the null type)
            cols["customer_id"] = customer_id.combine_chunks()
        elif customer_id is not None:
            cols["customer_id"] = pa.array(customer_id)
        for name in (
            "predicted_clv",
            "expected_purchases",
            "expected_spend",
            "probability_alive",
            "predicted_clv_if_alive",
        ):
            arr = getattr(self, name)
            cols[name] = pa.array(arr, type=pa.float64(), mask=~np.isfinite(arr))
        cols["clv_prediction_reason"] = pa.array(self.reason.tolist(), type=pa.string())
        return pa.table(cols)


class _Reasons:
    """Per-row reason strings kept as small integer codes (fast on millions of rows);
    the first reason set for a row wins."""

    def __init__(self, n: int) -> None:
        self.codes = np.zeros(n, dtype=np.int32)
        self.messages: list[str | None] = [None]

    def _code(self, message: str) -> int:
        if message not in self.messages:
            self.messages.append(message)
        return self.messages.index(message)

    def set_mask(self, mask: np.ndarray, message: str) -> None:
        mask = mask & (self.codes == 0)
        if mask.any():
            self.codes[mask] = self._code(message)

    def set_all(self, message: str) -> None:
        self.set_mask(np.ones(len(self.codes), dtype=bool), message)

    def set_rows(self, mask: np.ndarray, per_row: np.ndarray) -> None:
        for message in set(per_row[mask & (self.codes == 0)].tolist()):
            self.set_mask(mask & (per_row == message), message)

    def to_array(self) -> np.ndarray:
        return np.array(self.messages, dtype=object)[self.codes]


def _broadcast_margin(margin_rate: float | ArrayLike, n: int) -> FloatArray:
    if np.ndim(margin_rate) == 0:
        return np.full(n, float(margin_rate))  # type: ignore[arg-type]
    arr = as_float_array(margin_rate, "margin_rate")
    if len(arr) != n:
        raise ValueError(f"margin_rate has length {len(arr)}, expected a scalar or {n}")
    return arr


def predict_clv(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary: ArrayLike,
    purchase_fit: PurchaseFit,
    gamma_gamma: GammaGammaFit,
    *,
    horizon_months: int = 12,
    margin_rate: float | ArrayLike = 1.0,
    annual_discount_rate: float = 0.0,
    weeks_per_month: float = WEEKS_PER_MONTH,
) -> ClvPrediction:
    """Predicted CLV per customer (see the module docstring for the conventions).

    ``frequency``, ``recency``, ``T`` (weeks) and ``monetary`` are the domain summary;
    ``monetary`` of one-time buyers is ignored (may be NULL/NaN).  ``purchase_fit`` is a
    fit of any purchase model (:data:`customer_value.clv.PURCHASE_MODELS`: BG/NBD, MBG/NBD
    or Pareto/NBD).  ``margin_rate`` is
    a scalar or one value per customer (NaN -> that customer's CLV is not predicted;
    a negative rate, a loss-making customer, gives a negative CLV).

    Raises ``ValueError`` only for bad settings (negative horizon, discount rate <= -1,
    mismatched lengths), and ``TypeError`` if ``purchase_fit`` is no purchase model's
    fit; never for a model that is not fitted or for invalid rows, which come back as NaN
    with ``available=False`` and a ``reason``.
    """
    purchase_model = purchase_model_of(purchase_fit)
    if int(horizon_months) != horizon_months or horizon_months < 0:
        raise ValueError("horizon_months must be a non-negative integer")
    horizon_months = int(horizon_months)
    if not np.isfinite(annual_discount_rate) or annual_discount_rate <= -1.0:
        raise ValueError("annual_discount_rate must be finite and > -1")
    if not np.isfinite(weeks_per_month) or weeks_per_month <= 0:
        raise ValueError("weeks_per_month must be finite and > 0")

    x = as_float_array(frequency, "frequency")
    t_x = as_float_array(recency, "recency")
    Ta = as_float_array(T, "T")
    m = as_float_array(monetary, "monetary")
    n = check_same_length(frequency=x, recency=t_x, T=Ta, monetary=m)
    margin = _broadcast_margin(margin_rate, n)
    d_month = monthly_discount_rate(annual_discount_rate)

    valid_summary, reasons_summary = summary_validity(x, t_x, Ta)
    valid_gg, reasons_gg = spend_validity(x, m)
    palive, purchases, spend, clv, clv_if_alive = (np.full(n, np.nan) for _ in range(5))
    ends = month_end_weeks(horizon_months, weeks_per_month)
    discount = discount_factors(annual_discount_rate, horizon_months)
    params = purchase_model.params_of(purchase_fit)

    def rows(sl: slice) -> None:
        """Everything per customer for the rows in ``sl`` (run in threads on big inputs;
        each chunk de-duplicates its own (x, T) pairs)."""
        disc_if_alive = np.full(sl.stop - sl.start, np.nan)
        if purchase_fit.converged:
            ok = valid_summary[sl]
            sel: slice | np.ndarray = slice(None) if ok.all() else np.flatnonzero(ok)
            xv, Tv = x[sl][sel], Ta[sl][sel]
            pa_v = purchase_model.probability_alive_raw(xv, clean_recency(xv, t_x[sl][sel], Tv), Tv, *params)
            palive[sl][sel] = pa_v
            if horizon_months == 0 or len(xv) == 0:
                purchases[sl][sel] = 0.0
                disc_if_alive[sel] = 0.0
            else:
                inverse, cum = purchase_model.cumulative_if_alive_by_pair(xv, Tv, ends, params)
                increments = np.diff(cum, axis=1, prepend=0.0)
                purchases[sl][sel] = pa_v * cum[inverse, -1]
                disc_if_alive[sel] = (increments @ discount)[inverse]
        if gamma_gamma.converged:
            ok = valid_gg[sl]
            sel = slice(None) if ok.all() else np.flatnonzero(ok)
            spend[sl][sel] = expected_spend_raw(x[sl][sel], m[sl][sel], gamma_gamma.p, gamma_gamma.q, gamma_gamma.v)
        with np.errstate(invalid="ignore", over="ignore"):
            clv_if_alive[sl] = disc_if_alive * spend[sl] * margin[sl]
            clv[sl] = palive[sl] * clv_if_alive[sl]

    chunked_map(rows, n)
    available = np.isfinite(clv)
    clv[~available] = np.nan
    clv_if_alive[~available] = np.nan

    # reasons: model-level first, then row-level; the first one recorded for a row wins
    reasons = _Reasons(n)
    if not purchase_fit.converged:
        reasons.set_all(f"{purchase_model.label} model not fitted: {purchase_fit.message}")
    if not gamma_gamma.converged:
        reasons.set_all(f"Gamma-Gamma model not fitted: {gamma_gamma.message}")
    if not available.all():
        reasons.set_rows(~valid_summary, reasons_summary)
        reasons.set_rows(~valid_gg, reasons_gg)
        reasons.set_mask(~np.isfinite(margin), "margin rate missing")
        reasons.set_mask(~available, "prediction not finite")
    reason = reasons.to_array()
    return ClvPrediction(
        predicted_clv=clv,
        expected_purchases=purchases,
        expected_spend=spend,
        probability_alive=palive,
        predicted_clv_if_alive=clv_if_alive,
        available=available,
        reason=reason,
        horizon_months=horizon_months,
        annual_discount_rate=float(annual_discount_rate),
        monthly_discount_rate=d_month,
    )
