"""Tests of the MBG/NBD and Pareto/NBD purchase models and of the purchase-model registry.

Validated as the BG/NBD is in test_clv.py: expected values come from (a) ground-truth
simulators written here (vectorised draws of each model's generative story), (b)
lifetimes 0.11.3 as an independent implementation, (c) the published CDNOW estimates,
reproduced from the raw transaction log, (d) direct numerical integration with
scipy.integrate.quad, and (e) properties that hold by construction.  Nothing is copied
from our own outputs.
"""

from __future__ import annotations

import copy
import datetime as dt
import inspect
import warnings

import numpy as np
import pytest
from scipy import integrate, stats

from customer_value.clv import (
    PURCHASE_MODELS,
    WEEKS_PER_MONTH,
    BgNbdFit,
    MbgNbdFit,
    ModelNotFittedError,
    ParetoNbdFit,
    fit_bgnbd,
    fit_gamma_gamma,
    fit_mbgnbd,
    fit_paretonbd,
    mbgnbd_expected_purchases,
    mbgnbd_expected_purchases_by_period,
    mbgnbd_expected_repeat_purchase_counts,
    mbgnbd_log_likelihood,
    mbgnbd_probability_alive,
    mbgnbd_probability_of_purchases,
    paretonbd_expected_purchases,
    paretonbd_expected_purchases_by_period,
    paretonbd_expected_repeat_purchase_counts,
    paretonbd_log_likelihood,
    paretonbd_probability_alive,
    paretonbd_probability_of_purchases,
    predict_clv,
    purchase_model_of,
)
from customer_value.clv import paretonbd as pareto_module
from customer_value.clv.paretonbd import log_tail_integral

MAX_DAYS = 3 * 365
TRUE_MBG = {"r": 0.75, "alpha": 9.0, "a": 0.8, "b": 2.5}
TRUE_PARETO = {"r": 0.75, "alpha": 9.0, "s": 1.5, "beta": 60.0}
# alpha and beta 20x apart: the tail integrals of short-lived customers go to quadrature
TRUE_PARETO_FAR = {"r": 2.0, "alpha": 40.0, "s": 0.7, "beta": 2.0}
N_RECOVERY = 60_000


# --------------------------------------------------------------------------- simulators


def _ages(rng: np.random.Generator, n: int) -> np.ndarray:
    """T: whole days since the first purchase (0..3 years) / 7."""
    return rng.integers(0, MAX_DAYS + 1, n) / 7.0


def simulate_mbgnbd(n: int, seed: int, params: dict = TRUE_MBG, holdout_weeks: float = 0.0):
    """Vectorised draw from the MBG/NBD story: lambda ~ Gamma(r, rate alpha), p ~ Beta(a, b);
    a dropout opportunity right after the first purchase and after every repeat purchase.
    G ~ Geometric(p) is the opportunity at which the customer drops (1 = right after the
    first purchase), so G - 1 repeat purchases is all they will ever make.  With
    K ~ Poisson(lambda T) purchase events while alive in (0, T]: x = min(K, G - 1), the x
    purchases are the first x of the K uniform event times, t_x = T Beta(x, K - x + 1);
    alive at T iff K < G - 1; the hold-out count is min(Poisson(lambda t), G - 1 - K).
    Returns x, t_x, T, alive, future."""
    rng = np.random.default_rng(seed)
    T = _ages(rng, n)
    lam = rng.gamma(params["r"], 1.0 / params["alpha"], n)
    drop = rng.beta(params["a"], params["b"], n)
    k = rng.poisson(lam * T)
    repeats_before_drop = rng.geometric(drop) - 1
    x = np.minimum(k, repeats_before_drop)
    t_x = np.where(x > 0, T * rng.beta(np.maximum(x, 1), np.maximum(k - x, 0) + 1), 0.0)
    alive = k < repeats_before_drop
    future = np.where(alive, np.minimum(rng.poisson(lam * holdout_weeks), repeats_before_drop - k), 0)
    return x.astype(float), t_x, T, alive, future


def simulate_paretonbd(n: int, seed: int, params: dict = TRUE_PARETO, holdout_weeks: float = 0.0):
    """Vectorised draw from the Pareto/NBD story: lambda ~ Gamma(r, rate alpha),
    mu ~ Gamma(s, rate beta), lifetime tau ~ Exponential(mu).  Purchases are Poisson(lambda)
    on (0, min(tau, T)]: x ~ Poisson(lambda min(tau, T)), t_x = min(tau, T) Beta(x, 1) (the
    latest of x uniform times); alive at T iff tau > T; the hold-out count is
    Poisson(lambda min(tau - T, t)).  Returns x, t_x, T, alive, future."""
    rng = np.random.default_rng(seed)
    T = _ages(rng, n)
    lam = rng.gamma(params["r"], 1.0 / params["alpha"], n)
    mu = rng.gamma(params["s"], 1.0 / params["beta"], n)
    tau = rng.exponential(1.0 / mu)
    active = np.minimum(tau, T)
    x = rng.poisson(lam * active)
    t_x = np.where(x > 0, active * rng.beta(np.maximum(x, 1), 1.0), 0.0)
    alive = tau > T
    future = np.where(alive, rng.poisson(lam * np.clip(tau - T, 0.0, holdout_weeks)), 0)
    return x.astype(float), t_x, T, alive, future


def given(fit_class: type, params: dict):
    return fit_class(**params, log_likelihood=0.0, n_customers=0, converged=True, message="given")


@pytest.fixture(scope="module")
def mbg_data():
    x, t_x, T, alive, future = simulate_mbgnbd(N_RECOVERY, seed=2007, holdout_weeks=52.0)
    return {"x": x, "t_x": t_x, "T": T, "alive": alive, "future52": future}


@pytest.fixture(scope="module")
def pareto_data():
    x, t_x, T, alive, future = simulate_paretonbd(N_RECOVERY, seed=1987, holdout_weeks=52.0)
    return {"x": x, "t_x": t_x, "T": T, "alive": alive, "future52": future}


@pytest.fixture(scope="module")
def mbg_fit(mbg_data) -> MbgNbdFit:
    return fit_mbgnbd(mbg_data["x"], mbg_data["t_x"], mbg_data["T"])


@pytest.fixture(scope="module")
def pareto_fit(pareto_data) -> ParetoNbdFit:
    return fit_paretonbd(pareto_data["x"], pareto_data["t_x"], pareto_data["T"])


# --------------------------------------------------------------------------- ground truth


def _assert_recovered(fit, truth: dict, max_relative_se: float) -> None:
    assert fit.converged, fit.message
    for name, value in truth.items():
        se = fit.standard_errors[name]
        assert 0 < se < max_relative_se * value, (name, se)
        assert abs(getattr(fit, name) - value) < 3 * se, (name, getattr(fit, name), value, se)
    assert fit.log_covariance is not None and np.allclose(fit.log_covariance, np.transpose(fit.log_covariance))


def test_mbgnbd_recovers_true_parameters_within_3_standard_errors(mbg_fit):
    assert mbg_fit.n_customers == N_RECOVERY and mbg_fit.n_distinct <= N_RECOVERY
    _assert_recovered(mbg_fit, TRUE_MBG, 0.1)


def test_paretonbd_recovers_true_parameters_within_3_standard_errors(pareto_fit):
    assert pareto_fit.n_customers == N_RECOVERY and pareto_fit.n_distinct <= N_RECOVERY
    _assert_recovered(pareto_fit, TRUE_PARETO, 0.2)


def test_paretonbd_recovers_parameters_when_the_rates_are_far_apart():
    """alpha / beta = 20: the likelihood's integrals for recent purchases need the
    quadrature path; the fit must still land on the truth."""
    x, t_x, T, _, _ = simulate_paretonbd(40_000, seed=31, params=TRUE_PARETO_FAR)
    z_at_zero = (TRUE_PARETO_FAR["alpha"] - TRUE_PARETO_FAR["beta"]) / TRUE_PARETO_FAR["alpha"]
    assert z_at_zero > pareto_module._Z_SERIES
    _assert_recovered(fit_paretonbd(x, t_x, T), TRUE_PARETO_FAR, 0.3)


def _assert_groups_match(predicted, actual, groups, label):
    for lo, hi in groups:
        g = (predicted[1] >= lo) & (predicted[1] <= hi)
        se = actual[g].std(ddof=1) / np.sqrt(g.sum())
        assert abs(actual[g].mean() - predicted[0][g].mean()) < 4 * se + 1e-12, (label, lo, hi)


@pytest.mark.parametrize("model", ["mbg", "pareto"])
def test_probability_alive_and_holdout_purchases_match_the_simulation(model, mbg_data, pareto_data):
    """Under the true parameters P(alive) is the exact conditional probability of being
    alive and the conditional expectation the exact mean of the 52-week hold-out count:
    group means by frequency must agree with the simulated truth within sampling error."""
    if model == "mbg":
        data, fit = mbg_data, given(MbgNbdFit, TRUE_MBG)
        alive_fn, expected_fn = mbgnbd_probability_alive, mbgnbd_expected_purchases
    else:
        data, fit = pareto_data, given(ParetoNbdFit, TRUE_PARETO)
        alive_fn, expected_fn = paretonbd_probability_alive, paretonbd_expected_purchases
    x, t_x, T = data["x"], data["t_x"], data["T"]
    groups = [(0, 0), (1, 1), (2, 4), (5, 10**9)]
    _assert_groups_match((alive_fn(x, t_x, T, fit), x), data["alive"].astype(float), groups, "alive")
    _assert_groups_match((expected_fn(52.0, x, t_x, T, fit), x), data["future52"].astype(float), groups, "holdout")


@pytest.mark.parametrize(
    ("simulate", "fit_class", "params", "histogram"),
    [
        (simulate_mbgnbd, MbgNbdFit, TRUE_MBG, mbgnbd_expected_repeat_purchase_counts),
        (simulate_paretonbd, ParetoNbdFit, TRUE_PARETO, paretonbd_expected_repeat_purchase_counts),
        (simulate_paretonbd, ParetoNbdFit, TRUE_PARETO_FAR, paretonbd_expected_repeat_purchase_counts),
    ],
)
def test_expected_histogram_matches_simulated_customers(simulate, fit_class, params, histogram):
    """200,000 simulated customers with their own T: the count of customers per number
    of repeat purchases is within 4 binomial standard errors of the expected count
    (the sum of the unconditional P(X(T_i) = x)), bucket by bucket."""
    x, _, T, _, _ = simulate(200_000, seed=8, params=params)
    max_frequency = 8
    expected = histogram(T, given(fit_class, params), max_frequency)
    actual = np.bincount(np.minimum(x, max_frequency).astype(int), minlength=max_frequency + 1)
    assert expected.sum() == pytest.approx(len(T))
    for bucket, (e, a) in enumerate(zip(expected, actual)):
        se = np.sqrt(e * (1 - e / len(T)))
        assert abs(a - e) < 4 * se, (bucket, a, e, se)


# --------------------------------------------------------------------------- lifetimes


@pytest.fixture(scope="module")
def lifetimes_mbg(mbg_data):
    lifetimes = pytest.importorskip("lifetimes")
    sl = slice(0, 10_000)
    np.random.seed(0)  # lifetimes draws its starting point from numpy's global generator
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitter = lifetimes.ModifiedBetaGeoFitter(penalizer_coef=0.0).fit(
            mbg_data["x"][sl], mbg_data["t_x"][sl], mbg_data["T"][sl]
        )
    return fitter, sl


@pytest.fixture(scope="module")
def lifetimes_pareto(pareto_data):
    """lifetimes' ParetoNBDFitter optimises by Nelder-Mead from a random start; with its
    default tolerance (1e-4) it stops up to a quarter of a standard error short of the
    optimum, so it runs here to 1e-10 (seeded)."""
    lifetimes = pytest.importorskip("lifetimes")
    sl = slice(0, 5_000)
    np.random.seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitter = lifetimes.ParetoNBDFitter(penalizer_coef=0.0).fit(
            pareto_data["x"][sl], pareto_data["t_x"][sl], pareto_data["T"][sl], tol=1e-10, maxiter=20_000
        )
    return fitter, sl


def _with_params(fitter, params: dict):
    other = copy.deepcopy(fitter)
    for k, v in params.items():
        other.params_[k] = v
    return other


def test_mbgnbd_matches_lifetimes(lifetimes_mbg, mbg_data):
    fitter, sl = lifetimes_mbg
    x, t_x, T = (mbg_data[k][sl] for k in ("x", "t_x", "T"))
    ours = fit_mbgnbd(x, t_x, T)
    for name in TRUE_MBG:
        assert getattr(ours, name) == pytest.approx(fitter.params_[name], rel=1e-3)
        assert ours.standard_errors[name] == pytest.approx(fitter.standard_errors_[name], rel=1e-2)
    # lifetimes: mean negative log-likelihood with time multiplied by _scale; rescaling
    # time by s adds -x log(s) to each customer's log-likelihood
    theirs = -fitter._negative_log_likelihood_ * len(x) + np.log(fitter._scale) * x.sum()
    assert ours.log_likelihood == pytest.approx(theirs, rel=1e-7)
    assert mbgnbd_log_likelihood(x, t_x, T, **ours.params) == pytest.approx(ours.log_likelihood, rel=1e-12)
    # the formulas alone: lifetimes at our parameters
    same = _with_params(fitter, ours.params)
    np.testing.assert_allclose(
        mbgnbd_probability_alive(x, t_x, T, ours), same.conditional_probability_alive(x, t_x, T), rtol=1e-10
    )
    for t in (4.0, 52.0, 156.0):
        theirs = same.conditional_expected_number_of_purchases_up_to_time(t, x, t_x, T)
        ok = np.isfinite(theirs)
        assert ok.mean() > 0.99
        np.testing.assert_allclose(mbgnbd_expected_purchases(t, x, t_x, T, ours)[ok], theirs[ok], rtol=1e-8)
    for t in (0.5, 13.0, 52.0, 150.0):
        # lifetimes takes the NB tail as 1 - a finite sum: no better than 1e-16 absolute
        expected = [same.probability_of_n_purchases_up_to_time(t, k) for k in range(12)]
        got = mbgnbd_probability_of_purchases(np.arange(12), t, ours)
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-14)


def test_paretonbd_matches_lifetimes(lifetimes_pareto, pareto_data):
    fitter, sl = lifetimes_pareto
    x, t_x, T = (pareto_data[k][sl] for k in ("x", "t_x", "T"))
    ours = fit_paretonbd(x, t_x, T)
    for name in TRUE_PARETO:
        assert getattr(ours, name) == pytest.approx(fitter.params_[name], rel=1e-5)
    theirs = -fitter._negative_log_likelihood_ + np.log(fitter._scale) * x.sum()  # lifetimes divides by mean weight
    assert ours.log_likelihood == pytest.approx(theirs, rel=1e-10)
    same = _with_params(fitter, ours.params)
    their_ll = -same._negative_log_likelihood([ours.r, ours.alpha, ours.s, ours.beta], x, t_x, T, np.ones(len(x)), 0.0)
    assert paretonbd_log_likelihood(x, t_x, T, **ours.params) == pytest.approx(their_ll, rel=1e-10)
    np.testing.assert_allclose(
        paretonbd_probability_alive(x, t_x, T, ours), same.conditional_probability_alive(x, t_x, T), rtol=1e-9
    )
    for t in (4.0, 52.0, 156.0):
        theirs = same.conditional_expected_number_of_purchases_up_to_time(t, x, t_x, T)
        np.testing.assert_allclose(paretonbd_expected_purchases(t, x, t_x, T, ours), theirs, rtol=1e-9)


# --------------------------------------------------------------------------- CDNOW


def cdnow_calibration_summary() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The standard summary of the CDNOW sample, built from the raw transaction log by
    the project's rules: purchases on the same day count once, frequency = distinct
    purchase days - 1, recency = days from the first to the last purchase day / 7,
    T = days from the first purchase day to the end of calibration (1997-09-30) / 7,
    only purchases up to that day, $0 purchases included."""
    from customer_value.datasets import cdnow

    log = cdnow.read_log("sample")
    end = np.datetime64(cdnow.CALIBRATION_END)
    keep = log["day"] <= end
    days = np.unique(np.stack([log["customer"][keep], log["day"][keep].astype(np.int64)]), axis=1)
    customer, day = days
    first = np.flatnonzero(np.r_[True, customer[1:] != customer[:-1]])
    last = np.r_[first[1:], len(customer)] - 1
    frequency = (last - first).astype(np.float64)
    recency = (day[last] - day[first]) / 7.0
    T = (end.astype(np.int64) - day[first]) / 7.0
    return frequency, recency, T


@pytest.fixture(scope="module")
def cdnow_summary():
    pytest.importorskip("lifetimes")
    return cdnow_calibration_summary()


def test_cdnow_summary_from_the_raw_log_is_the_published_one(cdnow_summary):
    """lifetimes ships the papers' summary (recency and T rounded to 2 decimals)."""
    from pathlib import Path

    import lifetimes
    import pandas as pd

    published = pd.read_csv(Path(lifetimes.__file__).parent / "datasets" / "cdnow_customers_summary.csv")
    x, t_x, T = cdnow_summary
    assert len(x) == 2357 and x.sum() == published["frequency"].sum()
    np.testing.assert_array_equal(x, published["frequency"].to_numpy())
    np.testing.assert_allclose(t_x, published["recency"].to_numpy(), atol=0.005 + 1e-9)
    np.testing.assert_allclose(T, published["T"].to_numpy(), atol=0.005 + 1e-9)
    assert T.max() == pytest.approx(38.86, abs=0.005)  # a first purchase on 1997-01-01


# Published CDNOW estimates (rounded to 3 decimals; log-likelihood to 1):
#   BG/NBD: Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way", Marketing
#     Science 24(2), section 4.
#   Pareto/NBD: Fader, Hardie & Lee (2005), "A Note on Implementing the Pareto/NBD Model in
#     MATLAB" (brucehardie.com/notes/008); the same numbers in lifetimes' test_estimation.py.
#   MBG/NBD: no estimate on CDNOW in Batislam et al. (2007), who fit Turkish grocery data.
#     The reference is BTYDplus (M. Platzer), demo "cdnow" on BTYD's cdnowSummary: the
#     "CBG/NBD" (Hoppe & Wagner's central variant, the same model, later renamed mbgnbd in
#     BTYDplus) gives 0.525 6.183 0.891 1.614 (github.com/mplatzer/BTYDplus, demos/cdnow.r,
#     commit fd889e8); lifetimes' test_estimation.py checks ModifiedBetaGeoFitter against
#     these numbers ("test_params_out_is_close_to_BTYDplus").  No log-likelihood published.
CDNOW_PUBLISHED = {
    "bg_nbd": ({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, -9582.4),
    "pareto_nbd": ({"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}, -9595.0),
    "mbg_nbd": ({"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}, None),
}


@pytest.mark.parametrize("name", list(CDNOW_PUBLISHED))
def test_published_cdnow_estimates_from_the_raw_log(name, cdnow_summary):
    """Every estimate rounds to the published value: within half a unit of its last
    published digit."""
    params, log_likelihood = CDNOW_PUBLISHED[name]
    fit = PURCHASE_MODELS[name].fit(*cdnow_summary)
    assert fit.converged, fit.message
    for parameter, value in params.items():
        assert abs(getattr(fit, parameter) - value) <= 0.0005, (parameter, getattr(fit, parameter), value)
    if log_likelihood is not None:
        assert abs(fit.log_likelihood - log_likelihood) <= 0.05, fit.log_likelihood


def test_cdnow_log_likelihoods_against_clvtools(cdnow_summary):
    """CLVTools' correctness tests give the CDNOW maxima to more digits: BG/NBD -9582.429,
    Pareto/NBD -9594.976 (bachmannpatrick/CLVTools, tests/testthat/test_correctness_*)."""
    assert fit_bgnbd(*cdnow_summary).log_likelihood == pytest.approx(-9582.429, abs=5e-4)
    assert fit_paretonbd(*cdnow_summary).log_likelihood == pytest.approx(-9594.976, abs=5e-4)


# --------------------------------------------------------------------------- numerics


def _tail_integral_by_quad(tau, e_alpha, e_beta, alpha, beta):
    value, _ = integrate.quad(
        lambda u: (alpha + u) ** -e_alpha * (beta + u) ** -e_beta, tau, np.inf, epsabs=0, epsrel=1e-13, limit=500
    )
    return value


@pytest.mark.parametrize(
    ("tau", "e_alpha", "e_beta", "alpha", "beta"),
    [
        (0.0, 0.55, 1.6, 10.6, 11.7),  # CDNOW-like, z small
        (3.0, 2.55, 0.6, 11.7, 10.6),
        (0.0, 1.3, 0.7, 2.0, 40.0),  # z = 0.95: quadrature
        (0.5, 4.0, 1.2, 300.0, 1.5),  # z > 0.99: quadrature
        (20.0, 1.3, 0.7, 2.0, 40.0),  # z = 0.63: series
        (0.0, 0.3, 0.9, 5.0, 5.0),  # alpha = beta
    ],
)
def test_tail_integral_against_quad_and_its_gradient_against_differences(tau, e_alpha, e_beta, alpha, beta):
    got = log_tail_integral(np.array([tau]), np.array([e_alpha]), np.array([e_beta]), alpha, beta)
    assert got.log[0] == pytest.approx(np.log(_tail_integral_by_quad(tau, e_alpha, e_beta, alpha, beta)), rel=1e-9)
    args = [e_alpha, e_beta, alpha, beta]
    analytic = [got.d_e_alpha[0], got.d_e_beta[0], got.d_alpha[0], got.d_beta[0]]
    for i, deriv in enumerate(analytic):
        h = 1e-6 * args[i]
        up, down = list(args), list(args)
        up[i] += h
        down[i] -= h
        plus = log_tail_integral(np.array([tau]), np.array([up[0]]), np.array([up[1]]), up[2], up[3]).log[0]
        minus = log_tail_integral(np.array([tau]), np.array([down[0]]), np.array([down[1]]), down[2], down[3]).log[0]
        assert deriv == pytest.approx((plus - minus) / (2 * h), rel=1e-6, abs=1e-9), i


def test_series_and_quadrature_agree_where_both_work(monkeypatch):
    """Rows with 0.9 < z < 0.99 go to quadrature; forcing the series on them (it still
    converges, only more slowly) must give the same values and gradients."""
    tau = np.array([0.0, 0.1, 0.5, 1.0, 2.0])
    e_a, e_b = np.array([0.7, 3.7, 20.7, 1.7, 0.7]), np.array([1.4, 1.4, 0.4, 0.4, 1.4])
    quad = log_tail_integral(tau, e_a, e_b, 30.0, 1.0)
    assert np.all((29.0 / (30.0 + tau) > 0.9) & (29.0 / (30.0 + tau) < 0.99))
    monkeypatch.setattr(pareto_module, "_Z_SERIES", 0.999)
    series = log_tail_integral(tau, e_a, e_b, 30.0, 1.0)
    for field in ("log", "d_e_alpha", "d_e_beta", "d_alpha", "d_beta"):
        np.testing.assert_allclose(getattr(quad, field), getattr(series, field), rtol=1e-11, err_msg=field)


def test_chained_tail_integrals_equal_the_row_by_row_ones():
    """Beyond z = 0.9 the tail integrals of one x are chained along the sorted tau (each
    the next one's plus a short Gauss-Legendre stretch); on a day grid with alpha and
    beta 2000x apart they must equal the integrals computed row by row."""
    rng = np.random.default_rng(3)
    n = 4000
    tau = rng.integers(0, 1100, n) / 7.0 / 15.7
    x = rng.choice([0.0, 1.0, 2.0, 7.0, 40.0], n)
    e_alpha, e_beta = 0.6 + x + rng.integers(0, 2, n), np.where(rng.random(n) < 0.5, 0.8, 1.8)
    for alpha, beta in [(0.05, 100.0), (100.0, 0.05)]:
        chained = log_tail_integral(tau, e_alpha, e_beta, alpha, beta)
        direct = pareto_module._direct_tail_integral(tau, e_alpha, e_beta, alpha, beta, True)
        assert np.mean(np.abs(alpha - beta) / (max(alpha, beta) + tau) > pareto_module._Z_SERIES) > 0.3
        for field in ("log", "d_e_alpha", "d_e_beta", "d_alpha", "d_beta"):
            np.testing.assert_allclose(getattr(chained, field), getattr(direct, field), rtol=1e-11, err_msg=field)


def test_paretonbd_probability_of_purchases_against_quad():
    """P(X(t)=x) = NB(x; r, alpha/(alpha+t)) (beta/(beta+t))^s
    + int_0^t NB(x; r, alpha/(alpha+u)) s beta^s (beta+u)^-(s+1) du, integrated by quad."""
    params = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
    fit = given(ParetoNbdFit, params)
    r, alpha, s, beta = params.values()

    def nb(x, u):
        return stats.nbinom.pmf(x, r, alpha / (alpha + u))

    for t in (0.3, 39.0, 200.0):
        for x in (0, 1, 4, 15):
            died, _ = integrate.quad(
                lambda u, x: nb(x, u) * s * beta**s * (beta + u) ** -(s + 1),
                0,
                t,
                args=(x,),
                epsabs=0,
                epsrel=1e-12,
                limit=200,
            )
            expected = nb(x, t) * (beta / (beta + t)) ** s + died
            assert paretonbd_probability_of_purchases(x, t, fit) == pytest.approx(expected, rel=1e-9), (x, t)


@pytest.mark.parametrize("fit", [given(MbgNbdFit, TRUE_MBG), given(ParetoNbdFit, TRUE_PARETO)])
def test_probabilities_of_purchases_sum_to_one(fit):
    model = purchase_model_of(fit)
    x = np.arange(20_000)
    for t in (0.0, 1.0, 52.0, 300.0):
        probabilities = model.probability_of_purchases(x, t, fit)
        assert np.all(probabilities >= 0)
        assert probabilities.sum() == pytest.approx(1.0, abs=1e-9), t
    assert model.probability_of_purchases([0, 1, 5], 0.0, fit).tolist() == [1.0, 0.0, 0.0]


def test_new_customer_expectation_is_the_unconditional_one():
    """A customer just acquired (x = 0, T = 0) is a draw from the population: the
    conditional expectation must equal E[X(t)], integrated here by quad.
    MBG/NBD: alive after the first purchase with probability 1 - p, then
    (1 - (alpha/(alpha + p t))^r)/p purchases on average;
    Pareto/NBD: E[lambda] E[(1 - e^-mu t)/mu] = r/alpha int_0^t (beta/(beta+u))^s du."""
    t = 26.0
    r, alpha, a, b = TRUE_MBG.values()
    expected, _ = integrate.quad(
        lambda p: stats.beta.pdf(p, a, b) * (1 - p) * (1 - (alpha / (alpha + p * t)) ** r) / p, 0, 1, limit=200
    )
    got = mbgnbd_expected_purchases(t, [0], [0], [0.0], given(MbgNbdFit, TRUE_MBG))[0]
    assert got == pytest.approx(expected, rel=1e-8)
    r, alpha, s, beta = TRUE_PARETO.values()
    expected = r / alpha * integrate.quad(lambda u: (beta / (beta + u)) ** s, 0, t)[0]
    got = paretonbd_expected_purchases(t, [0], [0], [0.0], given(ParetoNbdFit, TRUE_PARETO))[0]
    assert got == pytest.approx(expected, rel=1e-10)
    # s = 1 exactly: the closed form's (s - 1) denominator is 0, the limit is beta log(1 + t/beta)
    unit = given(ParetoNbdFit, {"r": r, "alpha": alpha, "s": 1.0, "beta": beta})
    assert paretonbd_expected_purchases(t, [0], [0], [0.0], unit)[0] == pytest.approx(
        r / alpha * beta * np.log1p(t / beta), rel=1e-12
    )


def test_one_time_buyers_can_be_dead_and_probability_alive_falls_with_silence():
    """Unlike the BG/NBD, both models let a silent one-time buyer die."""
    T = np.linspace(1.0, 150.0, 30)
    for fit in (given(MbgNbdFit, TRUE_MBG), given(ParetoNbdFit, TRUE_PARETO)):
        model = purchase_model_of(fit)
        one_time = model.probability_alive(np.zeros(30), np.zeros(30), T, fit)
        assert np.all((one_time > 0) & (one_time < 1)) and np.all(np.diff(one_time) < 0)
        repeat = model.probability_alive(np.full(30, 3.0), np.full(30, 1.0), T, fit)
        assert np.all(np.diff(repeat) < 0)
        rising = model.probability_alive(np.full(5, 3.0), [1.0, 5.0, 10.0, 15.0, 20.0], np.full(5, 20.0), fit)
        assert np.all(np.diff(rising) > 0)
    # MBG/NBD by hand: 1 / (1 + a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x)), x = 0 included
    r, alpha, a, b = TRUE_MBG.values()
    expected = 1 / (1 + a / b * ((alpha + 52.0) / alpha) ** r)
    assert mbgnbd_probability_alive([0], [0], [52.0], given(MbgNbdFit, TRUE_MBG))[0] == pytest.approx(expected)


@pytest.mark.parametrize("fit", [given(MbgNbdFit, TRUE_MBG), given(ParetoNbdFit, TRUE_PARETO)])
def test_expected_purchases_nonnegative_increasing_and_zero_at_zero(fit):
    model = purchase_model_of(fit)
    t = np.linspace(0.0, 300.0, 61)
    for x, t_x, T in [(0, 0.0, 30.0), (1, 5.0, 30.0), (10, 100.0, 150.0), (60, 150.0, 156.0)]:
        e = model.expected_purchases(t, np.full(61, x), np.full(61, t_x), np.full(61, T), fit)
        assert e[0] == 0.0 and np.all(np.isfinite(e)) and np.all(np.diff(e) > 0)


@pytest.mark.parametrize(
    ("fit", "by_period", "cumulative"),
    [
        (given(MbgNbdFit, TRUE_MBG), mbgnbd_expected_purchases_by_period, mbgnbd_expected_purchases),
        (given(ParetoNbdFit, TRUE_PARETO), paretonbd_expected_purchases_by_period, paretonbd_expected_purchases),
    ],
)
def test_by_period_rows_sum_to_cumulative(fit, by_period, cumulative, pareto_data):
    sl = slice(0, 3000)
    x, t_x, T = pareto_data["x"][sl], pareto_data["t_x"][sl], pareto_data["T"][sl]
    ends = np.arange(1, 25) * WEEKS_PER_MONTH
    per = by_period(x, t_x, T, fit, ends)
    assert per.shape == (3000, 24) and np.all(per >= 0)
    np.testing.assert_allclose(per.cumsum(axis=1)[:, 11], cumulative(ends[11], x, t_x, T, fit), rtol=1e-10)
    np.testing.assert_allclose(per.sum(axis=1), cumulative(ends[-1], x, t_x, T, fit), rtol=1e-10)


@pytest.mark.parametrize("fit", [given(MbgNbdFit, TRUE_MBG), given(ParetoNbdFit, TRUE_PARETO_FAR)])
def test_huge_frequency_is_finite(fit):
    model = purchase_model_of(fit)
    x = np.array([5000.0, 5000.0, 20000.0, 0.0])
    t_x = np.array([156.0, 10.0, 155.0, 0.0])
    T = np.array([156.0, 156.0, 156.0, 156.0])
    alive = model.probability_alive(x, t_x, T, fit)
    e = model.expected_purchases(52.0, x, t_x, T, fit)
    assert np.all(np.isfinite(alive)) and np.all(np.isfinite(e)) and np.all(e >= 0)
    assert alive[0] > 0.99 and e[0] > 1000  # bought today, ~32 purchases a week
    assert alive[1] < 1e-100  # 5000 purchases then silence for 146 weeks: gone
    assert alive[2] < 1e-30  # 20000 purchases (128 a week), then a silent week


# --------------------------------------------------------------------------- degenerate inputs

FITS = [fit_mbgnbd, fit_paretonbd]


def _assert_not_fitted(fit, *fragments):
    assert not fit.converged
    assert all(np.isnan(v) for v in fit.params.values())
    for fragment in fragments:
        assert fragment in fit.message, fit.message


@pytest.mark.parametrize("fit_fn", FITS)
def test_degenerate_inputs_do_not_crash(fit_fn):
    _assert_not_fitted(fit_fn([], [], []), "no valid customers")
    _assert_not_fitted(fit_fn([1, 0, 2], [3, 0, 5], [10, 10, 10]), "too few customers")
    _assert_not_fitted(fit_fn(np.zeros(500), np.zeros(500), np.arange(500.0) / 7), "nobody made a repeat purchase")
    _assert_not_fitted(fit_fn(np.full(500, 3.0), np.full(500, 20.0), np.full(500, 52.0)))  # all identical
    _assert_not_fitted(fit_fn([5000.0], [150.0], [156.0]), "too few customers")
    _assert_not_fitted(fit_fn(np.zeros(20), np.zeros(20), np.zeros(20)))  # T = 0 everywhere
    _assert_not_fitted(fit_fn([-1, np.nan, 2.5], [0, 0, 1], [5, 5, 5]), "no valid customers", "3 invalid rows")


@pytest.mark.parametrize(("fit_fn", "simulate"), [(fit_mbgnbd, simulate_mbgnbd), (fit_paretonbd, simulate_paretonbd)])
def test_invalid_rows_are_excluded_and_counted(fit_fn, simulate):
    x, t_x, T, _, _ = simulate(2000, seed=12)
    clean = fit_fn(x, t_x, T)
    xb = np.append(x, [-1.0, 2.5, np.nan, 3.0])
    tb = np.append(t_x, [0.0, 1.0, 1.0, 99.0])
    Tb = np.append(T, [5.0, 5.0, 5.0, 10.0])  # last: recency > T
    dirty = fit_fn(xb, tb, Tb)
    assert dirty.converged and dirty.n_excluded == 4 and "4 invalid rows excluded" in dirty.message
    for name, value in clean.params.items():
        assert dirty.params[name] == pytest.approx(value, rel=1e-9)
    with pytest.raises(ValueError, match="invalid"):
        purchase_model_of(clean).probability_alive(xb, tb, Tb, clean)


@pytest.mark.parametrize(
    ("fit_fn", "simulate", "log_likelihood"),
    [
        (fit_mbgnbd, simulate_mbgnbd, mbgnbd_log_likelihood),
        (fit_paretonbd, simulate_paretonbd, paretonbd_log_likelihood),
    ],
)
def test_weights_equal_repeated_rows(fit_fn, simulate, log_likelihood):
    x, t_x, T, _, _ = simulate(3000, seed=13)
    w = np.random.default_rng(0).integers(1, 4, len(x))
    weighted = fit_fn(x, t_x, T, weights=w)
    expanded = fit_fn(np.repeat(x, w), np.repeat(t_x, w), np.repeat(T, w))
    for name, value in expanded.params.items():
        assert weighted.params[name] == pytest.approx(value, rel=1e-5)
    assert weighted.log_likelihood == pytest.approx(expanded.log_likelihood, rel=1e-9)
    assert weighted.total_weight == expanded.n_customers
    assert log_likelihood(x, t_x, T, **expanded.params, weights=w) == pytest.approx(expanded.log_likelihood, rel=1e-9)


@pytest.mark.parametrize(("fit_fn", "simulate"), [(fit_mbgnbd, simulate_mbgnbd), (fit_paretonbd, simulate_paretonbd)])
def test_penalizer_shrinks_parameters(fit_fn, simulate):
    x, t_x, T, _, _ = simulate(3000, seed=14)
    plain, penalized = fit_fn(x, t_x, T), fit_fn(x, t_x, T, penalizer=0.1)
    assert penalized.converged and penalized.log_likelihood < plain.log_likelihood
    squares = [sum(v * v for v in f.params.values()) for f in (plain, penalized)]
    assert squares[1] != pytest.approx(squares[0])


def test_prediction_functions_refuse_unfitted_models():
    for model, label in [(PURCHASE_MODELS["mbg_nbd"], "MBG/NBD"), (PURCHASE_MODELS["pareto_nbd"], "Pareto/NBD")]:
        bad = model.fit([], [], [])
        with pytest.raises(ModelNotFittedError, match=f"{label} model not fitted"):
            model.probability_alive([1], [1], [2], bad)
        with pytest.raises(ModelNotFittedError):
            model.expected_purchases(4.0, [1], [1], [2], bad)
        with pytest.raises(ModelNotFittedError):
            model.expected_purchases_by_period([1], [1], [2], bad, [4.0])
        with pytest.raises(ModelNotFittedError):
            model.probability_of_purchases(0, 1.0, bad)
        with pytest.raises(ModelNotFittedError):
            model.expected_repeat_purchase_counts([1.0], bad, 3)


@pytest.mark.parametrize("name", ["mbg_nbd", "pareto_nbd"])
def test_warm_start_newton_path_gives_the_same_optimum(name, mbg_data, pareto_data, monkeypatch):
    """Large inputs are first fitted on a thinned copy and then polished with Newton
    steps; forcing that path must land on the same optimum."""
    model = PURCHASE_MODELS[name]
    data = mbg_data if name == "mbg_nbd" else pareto_data
    args = (data["x"][:20_000], data["t_x"][:20_000], data["T"][:20_000])
    plain = model.fit(*args)
    module = inspect.getmodule(model.fit)
    monkeypatch.setattr(module, "_WARM_START_ROWS", 2000)
    warm = model.fit(*args)
    assert plain.converged and warm.converged
    for k, v in plain.params.items():
        assert warm.params[k] == pytest.approx(v, rel=1e-6)
    assert warm.log_likelihood == pytest.approx(plain.log_likelihood, rel=1e-12)


def test_threaded_chunks_give_the_same_fit(pareto_data, monkeypatch):
    """The per-row sums and the series run in threads on big inputs; forcing that path
    on the test data must give the same fit."""
    import customer_value.clv._common as common

    args = (pareto_data["x"][:20_000], pareto_data["t_x"][:20_000], pareto_data["T"][:20_000])
    single = fit_paretonbd(*args)
    monkeypatch.setattr(common, "N_THREADS", 2)
    monkeypatch.setattr(common, "_PARALLEL_MIN_ROWS", 1000)
    monkeypatch.setattr(pareto_module, "_PARALLEL_SERIES_ROWS", 100)
    threaded = fit_paretonbd(*args)
    assert threaded.log_likelihood == pytest.approx(single.log_likelihood, rel=1e-12)
    for k, v in single.params.items():
        assert threaded.params[k] == pytest.approx(v, rel=1e-7)


def test_threaded_predictions_with_nested_parallel_work_finish_and_agree(
    pareto_fit, pareto_data, spend_fit, monkeypatch
):
    """predict_clv runs chunks of customers in threads, and the Pareto/NBD's tail
    integrals inside a chunk would run their own chunks in the same threads: that must
    neither deadlock (checked with a timeout) nor change a number."""
    import threading

    import customer_value.clv._common as common

    sl = slice(0, 20_000)
    args = [pareto_data[k][sl] for k in ("x", "t_x", "T")] + [spend_fit[0][sl]]
    single = predict_clv(*args, pareto_fit, spend_fit[1], horizon_months=12, margin_rate=0.3)
    monkeypatch.setattr(common, "N_THREADS", 2)
    monkeypatch.setattr(common, "_PARALLEL_MIN_ROWS", 1000)
    monkeypatch.setattr(pareto_module, "_PARALLEL_SERIES_ROWS", 100)
    result = {}
    worker = threading.Thread(
        target=lambda: result.update(
            threaded=predict_clv(*args, pareto_fit, spend_fit[1], horizon_months=12, margin_rate=0.3)
        ),
        daemon=True,
    )
    worker.start()
    worker.join(timeout=120)
    assert not worker.is_alive(), "threaded predict_clv did not finish (deadlock)"
    np.testing.assert_array_equal(result["threaded"].predicted_clv, single.predicted_clv)
    np.testing.assert_array_equal(result["threaded"].probability_alive, single.probability_alive)


# --------------------------------------------------------------------------- registry, predict_clv, tables


def test_registry_has_one_signature_per_role():
    roles = [
        "fit",
        "log_likelihood",
        "probability_alive",
        "expected_purchases",
        "expected_purchases_by_period",
        "probability_of_purchases",
        "expected_repeat_purchase_counts",
        "probability_alive_raw",
        "cumulative_if_alive_by_pair",
    ]
    assert list(PURCHASE_MODELS) == ["bg_nbd", "mbg_nbd", "pareto_nbd"]
    for role in roles:
        shapes = set()
        for model in PURCHASE_MODELS.values():
            parameters = inspect.signature(getattr(model, role)).parameters.values()
            shapes.add(tuple((p.kind, p.default is inspect.Parameter.empty) for p in parameters))
        assert len(shapes) == 1, role
    for name, model in PURCHASE_MODELS.items():
        assert model.name == name and model.fit_class.PARAM_NAMES == model.param_names
        assert purchase_model_of(given(model.fit_class, dict.fromkeys(model.param_names, 1.0))) is model
    with pytest.raises(TypeError, match="not a purchase model fit"):
        purchase_model_of(fit_gamma_gamma([], []))


@pytest.fixture(scope="module")
def spend_fit(mbg_data):
    rng = np.random.default_rng(4)
    x = mbg_data["x"]
    m = np.where(
        x > 0, rng.gamma(6.0 * np.maximum(x, 1), 1 / rng.gamma(3.5, 1 / 40.0, len(x))) / np.maximum(x, 1), np.nan
    )
    return m, fit_gamma_gamma(x, m)


@pytest.mark.parametrize("name", ["mbg_nbd", "pareto_nbd"])
def test_predict_clv_with_any_purchase_model_matches_brute_force(name, mbg_fit, pareto_fit, mbg_data, spend_fit):
    """Month by month: increments of the model's own conditional expectation at each
    month end, times spend and margin, discounted."""
    fit = {"mbg_nbd": mbg_fit, "pareto_nbd": pareto_fit}[name]
    model = PURCHASE_MODELS[name]
    m, gg = spend_fit
    sl = slice(0, 4000)
    x, t_x, T, mm = mbg_data["x"][sl], mbg_data["t_x"][sl], mbg_data["T"][sl], m[sl]
    margin = np.linspace(0.1, 0.5, 4000)
    res = predict_clv(x, t_x, T, mm, fit, gg, horizon_months=24, margin_rate=margin, annual_discount_rate=0.12)
    spend = gg.p * (gg.v + x * np.nan_to_num(mm)) / (gg.p * x + gg.q - 1)
    total, previous = np.zeros(len(x)), np.zeros(len(x))
    for month in range(1, 25):
        cum = model.expected_purchases(month * WEEKS_PER_MONTH, x, t_x, T, fit)
        total += (cum - previous) * spend * margin / 1.12 ** (month / 12)
        previous = cum
    assert res.available.all()
    np.testing.assert_allclose(res.predicted_clv, total, rtol=1e-9)
    np.testing.assert_allclose(res.expected_purchases, previous, rtol=1e-9)
    np.testing.assert_allclose(res.probability_alive, model.probability_alive(x, t_x, T, fit), rtol=1e-12)


@pytest.mark.parametrize("name", ["mbg_nbd", "pareto_nbd"])
def test_predict_clv_with_unfitted_purchase_model_gives_nulls_and_its_reason(name, spend_fit):
    model = PURCHASE_MODELS[name]
    bad = model.fit(np.zeros(50), np.zeros(50), np.full(50, 10.0))
    res = predict_clv([0, 2], [0, 5], [10, 10], [np.nan, 30], bad, spend_fit[1])
    assert not res.available.any() and np.all(np.isfinite(res.expected_spend))
    assert all(r.startswith(f"{model.label} model not fitted: nobody made a repeat purchase") for r in res.reason)


@pytest.mark.parametrize("name", ["bg_nbd", "mbg_nbd", "pareto_nbd"])
def test_tables_round_trip_and_stream_predictions_for_any_purchase_model(name, mbg_data, spend_fit):
    pa = pytest.importorskip("pyarrow")
    from customer_value.clv import tables

    model = PURCHASE_MODELS[name]
    m, gg = spend_fit
    sl = slice(0, 6000)
    x, t_x, T, mm = mbg_data["x"][sl], mbg_data["t_x"][sl], mbg_data["T"][sl], m[sl]
    fit = model.fit(x, t_x, T)
    parameters = tables.parameter_table({name: fit, "gamma_gamma": gg}, dt.date(2026, 6, 30))
    assert parameters.filter(pa.compute.equal(parameters["model_name"], name))["parameter_name"].to_pylist() == list(
        model.param_names
    )
    rebuilt = tables.fit_from_table(parameters, name)
    assert type(rebuilt) is model.fit_class and rebuilt.params == fit.params and rebuilt.converged
    summary = pa.table(
        {
            "customer_id": [f"c{i}" for i in range(len(x))],
            "frequency": x,
            "recency_weeks": t_x,
            "t_weeks": T,
            "monetary_value": mm,
            "margin_rate": np.full(len(x), 0.3),
        }
    )
    out = tables.prediction_batches(
        summary,
        rebuilt,
        tables.fit_from_table(parameters, "gamma_gamma"),
        horizon_months=12,
        annual_discount_rate=0.0,
        list_months=12,
        chunk_rows=2500,
    ).read_all()
    assert out.num_rows == len(x)
    months = np.array(out["expected_margin_by_month"].to_pylist())
    direct = model.expected_purchases_by_period(x, t_x, T, fit, np.arange(1, 13) * WEEKS_PER_MONTH)
    spend = out["expected_spend"].to_numpy()
    np.testing.assert_allclose(months, direct * (spend * 0.3)[:, None], rtol=1e-12)
    # undiscounted: the CLV is the sum of the monthly margins
    np.testing.assert_allclose(out["predicted_clv"].to_numpy(), months.sum(axis=1), rtol=1e-9)
    unfitted = model.fit([], [], [])
    nulls = tables.margin_by_month_array(x, t_x, T, spend, np.full(len(x), 0.3), unfitted, 12)
    assert nulls.null_count == len(x)


def test_bgnbd_fit_class_is_its_own():
    """The three fit classes are distinct: a fit is never mistaken for another model's."""
    classes = [model.fit_class for model in PURCHASE_MODELS.values()]
    assert classes == [BgNbdFit, MbgNbdFit, ParetoNbdFit]
    assert not issubclass(MbgNbdFit, BgNbdFit) and not issubclass(BgNbdFit, MbgNbdFit)
