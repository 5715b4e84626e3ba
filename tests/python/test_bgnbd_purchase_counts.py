"""P(X(t) = x) of the BG/NBD (Fader, Hardie & Lee 2005, eq. 8) and the expected
repeat-purchase histogram the report's fit diagnostics draw, against lifetimes'
implementation and against simulation."""

from __future__ import annotations

import numpy as np
import pytest

from customer_value.clv import (
    BgNbdFit,
    ModelNotFittedError,
    bgnbd_expected_repeat_purchase_counts,
    bgnbd_probability_of_purchases,
)

PARAMS = {"r": 0.72, "alpha": 8.75, "a": 0.84, "b": 2.62}  # about the demo data's fit
# a < 1 < b, b < 1 (B(a+1, b+x-1) near its pole at x = 1) and a large r
OTHER_PARAMS = [{"r": 2.5, "alpha": 3.0, "a": 0.3, "b": 5.0}, {"r": 0.25, "alpha": 20.0, "a": 1.5, "b": 0.8}]


def fit(params: dict) -> BgNbdFit:
    return BgNbdFit(**params, log_likelihood=0.0, n_customers=0, converged=True, message="given")


def simulate_counts(params: dict, T: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Repeat purchases in (0, T]: Poisson(lambda) while alive, lambda ~ Gamma(r, alpha),
    dropout with probability p ~ Beta(a, b) right after each purchase."""
    n = len(T)
    lam = rng.gamma(params["r"], 1.0 / params["alpha"], n)
    p = rng.beta(params["a"], params["b"], n)
    purchases_if_alive = rng.poisson(lam * T)
    purchases_before_dropout = rng.geometric(p)
    return np.minimum(purchases_if_alive, purchases_before_dropout)


@pytest.mark.parametrize("params", [PARAMS, *OTHER_PARAMS])
def test_probabilities_equal_lifetimes(params):
    from lifetimes import BetaGeoFitter

    reference = BetaGeoFitter()
    reference.params_ = dict(params)  # what fit() would set
    for t in (0.5, 13.0, 52.0, 150.0):
        for x in range(12):
            expected = reference.probability_of_n_purchases_up_to_time(t, x)
            got = float(bgnbd_probability_of_purchases(x, t, fit(params)))
            assert got == pytest.approx(expected, rel=1e-9, abs=1e-14), (t, x)


@pytest.mark.parametrize("params", [PARAMS, *OTHER_PARAMS])
def test_probabilities_sum_to_one_and_start_at_zero_purchases(params):
    x = np.arange(20_000)  # the tail is long: lambda is Gamma-distributed
    for t in (0.0, 1.0, 52.0, 300.0):
        probabilities = bgnbd_probability_of_purchases(x, t, fit(params))
        assert np.all(probabilities >= 0)
        assert probabilities.sum() == pytest.approx(1.0, abs=1e-9), t
    assert bgnbd_probability_of_purchases([0, 1, 5], 0.0, fit(params)).tolist() == [1.0, 0.0, 0.0]


def test_expected_histogram_matches_simulated_customers():
    """200,000 simulated customers with their own T (0-3 years): the simulated count of
    customers per number of repeat purchases is within 4 binomial standard errors of the
    expected count, bucket by bucket."""
    rng = np.random.default_rng(2005)
    T = rng.integers(0, 3 * 365 + 1, 200_000) / 7.0
    counts = simulate_counts(PARAMS, T, rng)
    max_frequency = 8
    expected = bgnbd_expected_repeat_purchase_counts(T, fit(PARAMS), max_frequency)
    actual = np.bincount(np.minimum(counts, max_frequency), minlength=max_frequency + 1)
    assert expected.sum() == pytest.approx(len(T))
    for bucket, (e, a) in enumerate(zip(expected, actual)):
        se = np.sqrt(e * (1 - e / len(T)))
        assert abs(a - e) < 4 * se, (bucket, a, e, se)


def test_expected_histogram_is_the_sum_of_each_customers_probabilities():
    T = np.array([0.0, 1.0, 1.0, 10.5, 52.0, 52.0, 52.0, 130.0])
    expected = bgnbd_expected_repeat_purchase_counts(T, fit(PARAMS), 3)
    by_customer = np.array([bgnbd_probability_of_purchases(np.arange(3), t, fit(PARAMS)) for t in T])
    assert expected[:3] == pytest.approx(by_customer.sum(axis=0), rel=1e-12)
    assert expected[3] == pytest.approx(len(T) - by_customer.sum(), rel=1e-12)


def test_refuses_bad_input_and_unfitted_models():
    with pytest.raises(ValueError):
        bgnbd_probability_of_purchases(1.5, 10.0, fit(PARAMS))
    with pytest.raises(ValueError):
        bgnbd_probability_of_purchases(1, -1.0, fit(PARAMS))
    with pytest.raises(ValueError):
        bgnbd_expected_repeat_purchase_counts([1.0, np.nan], fit(PARAMS), 3)
    unfitted = BgNbdFit(
        np.nan,
        np.nan,
        np.nan,
        np.nan,
        log_likelihood=np.nan,
        n_customers=0,
        converged=False,
        message="too few customers",
    )
    with pytest.raises(ModelNotFittedError):
        bgnbd_probability_of_purchases(0, 1.0, unfitted)
