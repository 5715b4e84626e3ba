"""Tests of customer_value.clv (BG/NBD, Gamma-Gamma, predicted CLV).

Expected values come from (a) a ground-truth simulator written here, independent of the
project's data generator, (b) lifetimes 0.11.3 as an independent implementation, (c)
direct numerical integration with scipy.integrate.quad, and (d) properties that hold by
construction.  Nothing is copied from our own outputs.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from scipy import integrate, stats

from customer_value.clv import (
    WEEKS_PER_MONTH,
    BgNbdFit,
    GammaGammaFit,
    ModelNotFittedError,
    bgnbd_expected_purchases,
    bgnbd_expected_purchases_by_period,
    bgnbd_log_likelihood,
    bgnbd_probability_alive,
    discount_factors,
    fit_bgnbd,
    fit_gamma_gamma,
    gamma_gamma_expected_spend,
    monthly_discount_rate,
    numerical_hessian,
    predict_clv,
)
from customer_value.clv.bgnbd import expected_if_alive, quadrature_if_alive

TRUE_BG = {"r": 0.75, "alpha": 9.0, "a": 0.8, "b": 2.5}
TRUE_GG = {"p": 6.0, "q": 3.5, "v": 40.0}
N_CUSTOMERS = 100_000
MAX_DAYS = 3 * 365


# --------------------------------------------------------------------------- simulator


def simulate(n: int, seed: int, bg: dict = TRUE_BG, gg: dict = TRUE_GG, holdout_weeks: float = 0.0):
    """Vectorised draw from the BG/NBD + Gamma-Gamma generative story.

    T: whole days since the first purchase (0..3 years) / 7.  lambda ~ Gamma(r, rate alpha),
    p ~ Beta(a, b).  While alive, repeat purchases are Poisson(lambda); after each repeat
    purchase the customer drops out with probability p, so the number of repeat purchases a
    customer will ever make is Geometric(p) on {1, 2, ...} (the dropping purchase counts).
    With K ~ Poisson(lambda T) events in (0, T] and N ~ Geometric(p): x = min(K, N) and, the
    K event times being uniform order statistics, t_x = T * Beta(x, K - x + 1).  A customer
    is alive at T iff N > K; the hold-out count in (T, T + t] is then
    min(Poisson(lambda t), N - K).  Spend: nu ~ Gamma(q, rate v), each transaction
    ~ Gamma(p, rate nu), monetary = mean of the x repeat transactions.
    """
    rng = np.random.default_rng(seed)
    T = rng.integers(0, MAX_DAYS + 1, n) / 7.0
    lam = rng.gamma(bg["r"], 1.0 / bg["alpha"], n)
    drop = rng.beta(bg["a"], bg["b"], n)
    k = rng.poisson(lam * T)
    n_max = rng.geometric(drop)
    x = np.minimum(k, n_max)
    rep = x > 0
    t_x = np.zeros(n)
    t_x[rep] = T[rep] * rng.beta(x[rep], k[rep] - x[rep] + 1)
    nu = rng.gamma(gg["q"], 1.0 / gg["v"], n)
    monetary = np.full(n, np.nan)
    monetary[rep] = rng.gamma(gg["p"] * x[rep], 1.0 / nu[rep]) / x[rep]
    alive = n_max > k
    future = np.where(alive, np.minimum(rng.poisson(lam * holdout_weeks), n_max - k), 0)
    return x.astype(float), t_x, T, monetary, future


@pytest.fixture(scope="module")
def data():
    x, t_x, T, m, future = simulate(N_CUSTOMERS, seed=20240601, holdout_weeks=52.0)
    return {"x": x, "t_x": t_x, "T": T, "m": m, "future52": future}


@pytest.fixture(scope="module")
def bg_fit(data) -> BgNbdFit:
    return fit_bgnbd(data["x"], data["t_x"], data["T"])


@pytest.fixture(scope="module")
def gg_fit(data) -> GammaGammaFit:
    return fit_gamma_gamma(data["x"], data["m"])


@pytest.fixture(scope="module")
def lifetimes_fits(data):
    lifetimes = pytest.importorskip("lifetimes")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bgf = lifetimes.BetaGeoFitter(penalizer_coef=0.0).fit(data["x"], data["t_x"], data["T"])
        rep = data["x"] > 0
        ggf = lifetimes.GammaGammaFitter(penalizer_coef=0.0).fit(data["x"][rep], data["m"][rep])
    return bgf, ggf


def _lifetimes_with_params(fitter, params: dict):
    """A copy of a lifetimes fitter whose parameters are set to ``params``."""
    import copy

    other = copy.deepcopy(fitter)
    for k, v in params.items():
        other.params_[k] = v
    return other


# --------------------------------------------------------------------------- ground truth


def test_bgnbd_recovers_true_parameters_within_3_standard_errors(bg_fit):
    assert bg_fit.converged, bg_fit.message
    assert bg_fit.n_customers == N_CUSTOMERS
    assert bg_fit.n_distinct <= N_CUSTOMERS
    for name, truth in TRUE_BG.items():
        se = bg_fit.standard_errors[name]
        assert 0 < se < 0.05 * truth, (name, se)
        assert abs(getattr(bg_fit, name) - truth) < 3 * se, (name, getattr(bg_fit, name), truth, se)


def test_gamma_gamma_recovers_true_parameters_within_3_standard_errors(gg_fit, data):
    assert gg_fit.converged, gg_fit.message
    assert gg_fit.n_customers == int((data["x"] > 0).sum())
    for name, truth in TRUE_GG.items():
        se = gg_fit.standard_errors[name]
        assert 0 < se < 0.1 * truth, (name, se)
        assert abs(getattr(gg_fit, name) - truth) < 3 * se, (name, getattr(gg_fit, name), truth, se)


def test_expected_purchases_match_simulated_holdout(data):
    """With the true parameters, eq. 10 is the exact conditional mean of the simulated
    52-week hold-out count: the group means must agree within sampling error."""
    truth = BgNbdFit(**TRUE_BG, log_likelihood=0.0, n_customers=0, converged=True, message="truth")
    pred = bgnbd_expected_purchases(52.0, data["x"], data["t_x"], data["T"], truth)
    actual = data["future52"]
    for lo, hi in [(0, 0), (1, 1), (2, 4), (5, 10**9)]:
        g = (data["x"] >= lo) & (data["x"] <= hi)
        se = actual[g].std(ddof=1) / np.sqrt(g.sum())
        assert abs(actual[g].mean() - pred[g].mean()) < 4 * se, (lo, hi, actual[g].mean(), pred[g].mean(), se)


def test_probability_alive_matches_simulated_survival():
    """P(alive) under the true parameters against the simulated share alive at T."""
    rng = np.random.default_rng(7)
    n = 200_000
    T = rng.integers(0, MAX_DAYS + 1, n) / 7.0
    lam = rng.gamma(TRUE_BG["r"], 1.0 / TRUE_BG["alpha"], n)
    p = rng.beta(TRUE_BG["a"], TRUE_BG["b"], n)
    k = rng.poisson(lam * T)
    n_max = rng.geometric(p)
    x = np.minimum(k, n_max).astype(float)
    t_x = np.where(x > 0, T * rng.beta(np.maximum(x, 1), np.maximum(k - x, 0) + 1), 0.0)
    alive = n_max > k
    truth = BgNbdFit(**TRUE_BG, log_likelihood=0.0, n_customers=0, converged=True, message="truth")
    pa = bgnbd_probability_alive(x, t_x, T, truth)
    for lo, hi in [(1, 1), (2, 3), (4, 10**9)]:
        g = (x >= lo) & (x <= hi)
        se = np.sqrt(pa[g].mean() * (1 - pa[g].mean()) / g.sum())
        assert abs(alive[g].mean() - pa[g].mean()) < 4 * se, (lo, hi)


# --------------------------------------------------------------------------- lifetimes


def test_bgnbd_fit_matches_lifetimes(bg_fit, lifetimes_fits, data):
    bgf, _ = lifetimes_fits
    for name in TRUE_BG:
        assert getattr(bg_fit, name) == pytest.approx(bgf.params_[name], rel=1e-3)
    # lifetimes minimises the mean negative log-likelihood with time multiplied by
    # _scale = 10 / max(T); rescaling time by s adds -x log(s) to each customer's log-lik.
    theirs = -bgf._negative_log_likelihood_ * N_CUSTOMERS + np.log(bgf._scale) * data["x"].sum()
    assert bg_fit.log_likelihood == pytest.approx(theirs, rel=1e-7)
    # standard errors: our finite-difference Hessian vs lifetimes' autograd Hessian
    for name in TRUE_BG:
        assert bg_fit.standard_errors[name] == pytest.approx(bgf.standard_errors_[name], rel=1e-2)


def test_bgnbd_predictions_match_lifetimes(bg_fit, lifetimes_fits, data):
    bgf, _ = lifetimes_fits
    x, t_x, T = data["x"], data["t_x"], data["T"]
    # (1) each with its own fitted parameters
    np.testing.assert_allclose(
        bgnbd_probability_alive(x, t_x, T, bg_fit), bgf.conditional_probability_alive(x, t_x, T), rtol=1e-3, atol=1e-12
    )
    for t in (4.0, 52.0, 156.0):
        ours = bgnbd_expected_purchases(t, x, t_x, T, bg_fit)
        theirs = bgf.conditional_expected_number_of_purchases_up_to_time(t, x, t_x, T)
        ok = np.isfinite(theirs)
        assert ok.mean() > 0.999
        np.testing.assert_allclose(ours[ok], theirs[ok], rtol=1e-3, atol=1e-12)
    # (2) the formulas alone: lifetimes evaluated at our parameters
    same = _lifetimes_with_params(bgf, bg_fit.params)
    np.testing.assert_allclose(
        bgnbd_probability_alive(x, t_x, T, bg_fit),
        same.conditional_probability_alive(x, t_x, T),
        rtol=1e-10,
        atol=1e-300,
    )
    theirs = same.conditional_expected_number_of_purchases_up_to_time(52.0, x, t_x, T)
    ok = np.isfinite(theirs)
    np.testing.assert_allclose(
        bgnbd_expected_purchases(52.0, x, t_x, T, bg_fit)[ok], theirs[ok], rtol=1e-8, atol=1e-300
    )


def test_gamma_gamma_matches_lifetimes(gg_fit, lifetimes_fits, data):
    _, ggf = lifetimes_fits
    for name in TRUE_GG:
        assert getattr(gg_fit, name) == pytest.approx(ggf.params_[name], rel=1e-3)
        assert gg_fit.standard_errors[name] == pytest.approx(ggf.standard_errors_[name], rel=1e-2)
    n_rep = int((data["x"] > 0).sum())
    assert gg_fit.log_likelihood == pytest.approx(-ggf._negative_log_likelihood_ * n_rep, rel=1e-7)
    x, m = data["x"], np.nan_to_num(data["m"])
    np.testing.assert_allclose(
        gamma_gamma_expected_spend(x, m, gg_fit), ggf.conditional_expected_average_profit(x, m), rtol=1e-3
    )


def test_predict_clv_matches_lifetimes_clv(bg_fit, gg_fit, lifetimes_fits, data):
    """lifetimes' customer_lifetime_value (freq='W': months of 4.345 weeks, monthly
    discount (1+d)^-m, no margin) at our parameters, on 5,000 customers."""
    import pandas as pd

    bgf, ggf = lifetimes_fits
    bgs = _lifetimes_with_params(bgf, bg_fit.params)
    ggs = _lifetimes_with_params(ggf, gg_fit.params)
    sl = slice(0, 5000)
    x, t_x, T, m = (pd.Series(data[k][sl]) for k in ("x", "t_x", "T", "m"))
    m = m.fillna(0.0)
    d = 0.01
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = ggs.customer_lifetime_value(bgs, x, t_x, T, m, time=12, discount_rate=d, freq="W").to_numpy()
    ours = predict_clv(
        x,
        t_x,
        T,
        m,
        bg_fit,
        gg_fit,
        horizon_months=12,
        margin_rate=1.0,
        annual_discount_rate=(1 + d) ** 12 - 1,
        weeks_per_month=4.345,
    )
    assert ours.available.all()
    np.testing.assert_allclose(ours.predicted_clv, theirs, rtol=1e-7)


# --------------------------------------------------------------------------- hand-checked properties


def _fit(r=0.75, alpha=9.0, a=0.8, b=2.5) -> BgNbdFit:
    return BgNbdFit(r=r, alpha=alpha, a=a, b=b, log_likelihood=0.0, n_customers=0, converged=True, message="given")


def test_one_time_buyers_are_alive_and_probability_alive_falls_with_T():
    fit = _fit()
    assert np.all(bgnbd_probability_alive([0, 0, 0], [0, 0, 0], [0.0, 10.0, 150.0], fit) == 1.0)
    T = np.linspace(20.0, 300.0, 50)
    pa = bgnbd_probability_alive(np.full(50, 3.0), np.full(50, 20.0), T, fit)
    assert np.all(np.diff(pa) < 0) and np.all((pa > 0) & (pa <= 1))
    # and rises with recency for fixed x, T
    pa_r = bgnbd_probability_alive(np.full(5, 3.0), [1.0, 5.0, 10.0, 15.0, 20.0], np.full(5, 20.0), fit)
    assert np.all(np.diff(pa_r) > 0)
    # hand check, Hardie's note 021: 1 / (1 + a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))
    expected = 1.0 / (1.0 + 0.8 / (2.5 + 2 - 1) * ((9 + 52.0) / (9 + 30.0)) ** (0.75 + 2))
    assert bgnbd_probability_alive([2], [30.0], [52.0], fit)[0] == pytest.approx(expected, rel=1e-13)


def test_expected_purchases_nonnegative_increasing_and_zero_at_zero():
    fit = _fit()
    t = np.linspace(0.0, 300.0, 61)
    for x, t_x, T in [(0, 0.0, 30.0), (1, 5.0, 30.0), (10, 100.0, 150.0), (60, 150.0, 156.0)]:
        e = bgnbd_expected_purchases(t, np.full(61, x), np.full(61, t_x), np.full(61, T), fit)
        assert e[0] == 0.0
        assert np.all(e >= 0) and np.all(np.isfinite(e))
        assert np.all(np.diff(e) > 0)


def test_unconditional_limit_new_customer():
    """A brand-new customer (x=0, T=0) is a random draw from the prior, so eq. 10 must
    equal the unconditional E[X(t)] (paper eq. 9), integrated here by quad."""
    r, alpha, a, b = 0.75, 9.0, 0.8, 2.5
    t = 26.0

    def integrand(p):
        return stats.beta.pdf(p, a, b) * (1 - (alpha / (alpha + p * t)) ** r) / p

    expected, _ = integrate.quad(integrand, 0, 1, limit=200)
    assert bgnbd_expected_purchases(t, [0], [0], [0.0], _fit(r, alpha, a, b))[0] == pytest.approx(expected, rel=1e-8)


@pytest.mark.parametrize("x", [0, 1, 7, 80, 5000])
@pytest.mark.parametrize("params", [(0.75, 9.0, 0.8, 2.5), (0.243, 4.41, 0.793, 2.43), (2.0, 5.0, 3.0, 10.0)])
def test_expected_purchases_if_alive_against_quadrature(x, params):
    """E[purchases | alive] = E_p[(1 - (1 + p t/(alpha+T))^-(r+x))/p], p ~ Beta(a, b+x),
    by scipy quad; and our own logit-grid fallback agrees too."""
    r, alpha, a, b = params
    T, t = 100.0, 52.0

    def integrand(p):
        return stats.beta.pdf(p, a, b + x) * -np.expm1(-(r + x) * np.log1p(p * t / (alpha + T))) / p

    expected, _ = integrate.quad(
        integrand, 0, 1, points=[1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1], limit=500, epsabs=0, epsrel=1e-12
    )
    got = expected_if_alive(np.array([t]), np.array([float(x)]), np.array([T]), *params)[0]
    assert got == pytest.approx(expected, rel=1e-7)
    fallback = quadrature_if_alive(np.array([t]), np.array([float(x)]), np.array([T]), *params)[0]
    assert fallback == pytest.approx(expected, rel=1e-7)


def test_expected_purchases_singular_parameters_use_fallback():
    """a = 1 makes eq. 10's (a+b+x-1)/(a-1) 0/0 and a + b = 1 with x = 0 puts 2F1 at a
    pole: the result must still be finite and continuous."""
    t = np.array([52.0])
    for p_sing, p_near in [
        ((0.75, 9.0, 1.0, 2.5), (0.75, 9.0, 1.0 + 1e-4, 2.5)),
        ((0.75, 9.0, 0.4, 0.6), (0.75, 9.0, 0.4, 0.6 + 1e-4)),
    ]:
        s = expected_if_alive(t, np.array([0.0]), np.array([30.0]), *p_sing)[0]
        n = expected_if_alive(t, np.array([0.0]), np.array([30.0]), *p_near)[0]
        assert np.isfinite(s) and s == pytest.approx(n, rel=1e-3)


def test_by_period_rows_sum_to_cumulative(bg_fit, data):
    sl = slice(0, 3000)
    x, t_x, T = data["x"][sl], data["t_x"][sl], data["T"][sl]
    ends = np.arange(1, 25) * WEEKS_PER_MONTH
    per = bgnbd_expected_purchases_by_period(x, t_x, T, bg_fit, ends)
    assert per.shape == (3000, 24) and np.all(per >= 0)
    np.testing.assert_allclose(
        per.cumsum(axis=1)[:, 11], bgnbd_expected_purchases(ends[11], x, t_x, T, bg_fit), rtol=1e-10
    )
    np.testing.assert_allclose(per.sum(axis=1), bgnbd_expected_purchases(ends[-1], x, t_x, T, bg_fit), rtol=1e-10)


def test_huge_frequency_is_finite():
    fit = _fit()
    x = np.array([5000.0, 5000.0, 20000.0])
    t_x = np.array([156.0, 10.0, 155.0])
    T = np.array([156.0, 156.0, 156.0])
    pa = bgnbd_probability_alive(x, t_x, T, fit)
    e = bgnbd_expected_purchases(52.0, x, t_x, T, fit)
    assert np.all(np.isfinite(pa)) and np.all(np.isfinite(e)) and np.all(e >= 0)
    assert pa[0] > 0.99 and e[0] > 1000  # bought today, ~32 purchases a week
    assert pa[1] < 1e-100  # 5000 purchases then silence for 146 weeks: gone
    assert pa[2] < 1e-30  # 20000 purchases (128 a week), then a silent week


def test_gamma_gamma_expected_spend_cases():
    g = GammaGammaFit(p=6.0, q=3.5, v=40.0, log_likelihood=0.0, n_customers=0, converged=True, message="given")
    pop = 6.0 * 40.0 / 2.5
    spend = gamma_gamma_expected_spend([0, 0, 1, 10, 1000, 3, 3], [np.nan, 55.0, 200.0, 200.0, 200.0, 0.0, -30.0], g)
    assert spend[0] == pytest.approx(pop) and spend[1] == pytest.approx(pop)  # x=0: population mean
    assert pop < spend[2] < spend[3] < spend[4] < 200.0  # shrinks towards own mean as x grows
    assert spend[4] == pytest.approx(200.0, rel=1e-2)
    assert spend[5] == spend[6] == pytest.approx(pop * 2.5 / (6 * 3 + 2.5))  # m <= 0 scored as m = 0
    assert np.all(np.isfinite(spend))


# --------------------------------------------------------------------------- degenerate inputs


def _assert_not_fitted(fit, *fragments):
    assert not fit.converged
    assert all(np.isnan(v) for v in fit.params.values())
    for frag in fragments:
        assert frag in fit.message, fit.message


def test_bgnbd_degenerate_inputs_do_not_crash():
    _assert_not_fitted(fit_bgnbd([], [], []), "no valid customers")
    _assert_not_fitted(fit_bgnbd([1, 0, 2], [3, 0, 5], [10, 10, 10]), "too few customers")
    _assert_not_fitted(fit_bgnbd(np.zeros(500), np.zeros(500), np.arange(500.0) / 7), "nobody made a repeat purchase")
    _assert_not_fitted(fit_bgnbd(np.full(500, 3.0), np.full(500, 20.0), np.full(500, 52.0)))  # all identical
    _assert_not_fitted(fit_bgnbd([5000.0], [150.0], [156.0]), "too few customers")
    _assert_not_fitted(fit_bgnbd(np.zeros(20), np.zeros(20), np.zeros(20)))  # T = 0 everywhere
    all_invalid = fit_bgnbd([-1, np.nan, 2.5], [0, 0, 1], [5, 5, 5])
    _assert_not_fitted(all_invalid, "no valid customers", "3 invalid rows")


def test_bgnbd_one_huge_customer_in_a_population():
    x, t_x, T, _, _ = simulate(3000, seed=11)
    x = np.append(x, 5000.0)
    t_x = np.append(t_x, 150.0)
    T = np.append(T, 156.0)
    fit = fit_bgnbd(x, t_x, T)
    assert fit.converged, fit.message
    e = bgnbd_expected_purchases(52.0, x, t_x, T, fit)
    assert np.all(np.isfinite(e)) and np.all(e >= 0)


def test_bgnbd_invalid_rows_are_excluded_and_counted():
    x, t_x, T, _, _ = simulate(2000, seed=12)
    clean = fit_bgnbd(x, t_x, T)
    xb = np.append(x, [-1.0, 2.5, np.nan, 3.0])
    tb = np.append(t_x, [0.0, 1.0, 1.0, 99.0])
    Tb = np.append(T, [5.0, 5.0, 5.0, 10.0])  # last: recency > T
    dirty = fit_bgnbd(xb, tb, Tb)
    assert dirty.converged and dirty.n_excluded == 4 and "4 invalid rows excluded" in dirty.message
    assert dirty.r == pytest.approx(clean.r, rel=1e-9)
    with pytest.raises(ValueError, match="invalid"):
        bgnbd_probability_alive(xb, tb, Tb, clean)


def test_weights_equal_repeated_rows():
    x, t_x, T, _, _ = simulate(3000, seed=13)
    rng = np.random.default_rng(0)
    w = rng.integers(1, 4, len(x))
    weighted = fit_bgnbd(x, t_x, T, weights=w)
    expanded = fit_bgnbd(np.repeat(x, w), np.repeat(t_x, w), np.repeat(T, w))
    for k in TRUE_BG:
        assert getattr(weighted, k) == pytest.approx(getattr(expanded, k), rel=1e-5)
    assert weighted.log_likelihood == pytest.approx(expanded.log_likelihood, rel=1e-9)
    assert weighted.total_weight == expanded.n_customers
    assert bgnbd_log_likelihood(x, t_x, T, **expanded.params, weights=w) == pytest.approx(
        expanded.log_likelihood, rel=1e-9
    )


def test_penalizer_shrinks_parameters():
    x, t_x, T, _, _ = simulate(3000, seed=14)
    plain, pen = fit_bgnbd(x, t_x, T), fit_bgnbd(x, t_x, T, penalizer=0.1)
    assert pen.converged
    assert pen.log_likelihood < plain.log_likelihood
    assert sum(v * v for v in pen.params.values()) != pytest.approx(sum(v * v for v in plain.params.values()))


def test_gamma_gamma_degenerate_inputs_do_not_crash():
    _assert_not_fitted(fit_gamma_gamma([], []), "too few")
    _assert_not_fitted(fit_gamma_gamma(np.zeros(100), np.zeros(100)), "too few")
    _assert_not_fitted(fit_gamma_gamma(np.full(100, 3.0), np.linspace(0, -5, 100)), "too few")  # zero / negative
    _assert_not_fitted(fit_gamma_gamma(np.full(100, 3.0), np.full(100, 20.0)))  # no heterogeneity
    # heavy-tailed spend (true q = 0.8 < 1): no finite mean, must not "converge"
    x, _, _, m, _ = simulate(20000, seed=3, gg={"p": 6.0, "q": 0.8, "v": 40.0})
    _assert_not_fitted(fit_gamma_gamma(x, m), "q <= 1")
    x, _, _, m, _ = simulate(3000, seed=15)
    m = np.where(np.arange(len(m)) % 10 == 0, -m, m)  # some refunds
    fit = fit_gamma_gamma(x, m)
    assert fit.converged
    assert fit.n_excluded == int((~((x > 0) & (m > 0))).sum())


def test_prediction_functions_refuse_unfitted_models():
    bad_bg = fit_bgnbd([], [], [])
    bad_gg = fit_gamma_gamma([], [])
    with pytest.raises(ModelNotFittedError, match="BG/NBD model not fitted"):
        bgnbd_probability_alive([1], [1], [2], bad_bg)
    with pytest.raises(ModelNotFittedError):
        bgnbd_expected_purchases(4.0, [1], [1], [2], bad_bg)
    with pytest.raises(ModelNotFittedError):
        bgnbd_expected_purchases_by_period([1], [1], [2], bad_bg, [4.0])
    with pytest.raises(ModelNotFittedError, match="Gamma-Gamma model not fitted"):
        gamma_gamma_expected_spend([1], [1], bad_gg)


def test_predict_clv_with_unfitted_model_gives_nulls_and_reasons(gg_fit):
    pa = pytest.importorskip("pyarrow")
    bad_bg = fit_bgnbd(np.zeros(50), np.zeros(50), np.full(50, 10.0))
    res = predict_clv([0, 2], [0, 5], [10, 10], [np.nan, 30], bad_bg, gg_fit)
    assert not res.available.any()
    assert all(r.startswith("BG/NBD model not fitted: nobody made a repeat purchase") for r in res.reason)
    assert np.all(np.isfinite(res.expected_spend))  # the spend model is fine
    table = res.to_arrow(customer_id=["c1", "c2"])
    assert table.column("predicted_clv").null_count == 2
    assert table.column("expected_spend").null_count == 0
    assert table.column("clv_prediction_reason").to_pylist() == list(res.reason)
    assert table.schema.field("predicted_clv").type == pa.float64()


def test_predict_clv_row_level_reasons(bg_fit, gg_fit):
    res = predict_clv(
        [1, 2, -1, 3, 0],
        [5, 50, 0, 5, 0],
        [10, 10, 10, 10, 10],
        [20, 20, 20, np.nan, np.nan],
        bg_fit,
        gg_fit,
        margin_rate=[0.3, 0.3, 0.3, 0.3, np.nan],
    )
    assert res.available.tolist() == [True, False, False, False, False]
    assert "recency" in res.reason[1] and "frequency" in res.reason[2]
    assert "monetary" in res.reason[3] and res.reason[4] == "margin rate missing"
    assert np.isnan(res.predicted_clv[1:]).all() and res.reason[0] is None
    assert np.isfinite(res.expected_purchases[4])  # purchases known, only the margin is missing
    table = res.to_arrow()
    assert table.column("predicted_clv").null_count == 4


# --------------------------------------------------------------------------- predict_clv


def _brute_force_clv(x, t_x, T, m, bg, gg, months, margin, annual):
    """Month by month: increments of the cumulative expectation at each month end."""
    total = np.zeros(len(x))
    spend = gamma_gamma_expected_spend(x, m, gg)
    previous = np.zeros(len(x))
    for month in range(1, months + 1):
        cum = bgnbd_expected_purchases(month * 365.25 / 12 / 7, x, t_x, T, bg)
        total += (cum - previous) * spend * margin / (1 + annual) ** (month / 12)
        previous = cum
    return total, previous


def test_predict_clv_matches_brute_force_monthly_sum(bg_fit, gg_fit, data):
    sl = slice(0, 4000)
    x, t_x, T, m = (data[k][sl] for k in ("x", "t_x", "T", "m"))
    margin = np.linspace(0.1, 0.5, 4000)
    res = predict_clv(x, t_x, T, m, bg_fit, gg_fit, horizon_months=24, margin_rate=margin, annual_discount_rate=0.12)
    expected, purchases = _brute_force_clv(x, t_x, T, m, bg_fit, gg_fit, 24, margin, 0.12)
    assert res.available.all()
    np.testing.assert_allclose(res.predicted_clv, expected, rtol=1e-9)
    np.testing.assert_allclose(res.expected_purchases, purchases, rtol=1e-9)
    assert res.monthly_discount_rate == pytest.approx(1.12 ** (1 / 12) - 1)
    np.testing.assert_allclose(res.probability_alive, bgnbd_probability_alive(x, t_x, T, bg_fit))


def test_predict_clv_zero_horizon_and_discount_monotonicity(bg_fit, gg_fit, data):
    sl = slice(0, 2000)
    args = [data[k][sl] for k in ("x", "t_x", "T", "m")]
    zero = predict_clv(*args, bg_fit, gg_fit, horizon_months=0, margin_rate=0.3)
    assert np.all(zero.predicted_clv == 0) and np.all(zero.expected_purchases == 0)
    clvs = [
        predict_clv(*args, bg_fit, gg_fit, horizon_months=36, margin_rate=0.3, annual_discount_rate=rate).predicted_clv
        for rate in (0.0, 0.05, 0.1, 0.5)
    ]
    for hi, lo in itertools.pairwise(clvs):
        assert np.all(lo < hi)
    undiscounted = predict_clv(*args, bg_fit, gg_fit, horizon_months=36, margin_rate=0.3)
    np.testing.assert_allclose(clvs[0], undiscounted.expected_purchases * undiscounted.expected_spend * 0.3, rtol=1e-10)
    longer = predict_clv(*args, bg_fit, gg_fit, horizon_months=48, margin_rate=0.3, annual_discount_rate=0.1)
    assert np.all(longer.predicted_clv > clvs[2])


def test_predict_clv_rejects_bad_settings(bg_fit, gg_fit):
    with pytest.raises(ValueError):
        predict_clv([1], [1], [2], [3], bg_fit, gg_fit, horizon_months=-1)
    with pytest.raises(ValueError):
        predict_clv([1], [1], [2], [3], bg_fit, gg_fit, annual_discount_rate=-1.0)
    with pytest.raises(ValueError):
        predict_clv([1, 2], [1], [2], [3], bg_fit, gg_fit)
    assert monthly_discount_rate(0.0) == 0.0


def test_discount_factors_are_the_annual_rate_compounded_monthly():
    """Month m is worth (1 + i)^(-m/12): written out independently here, and the factor
    after twelve months is exactly one year's discount."""
    factors = discount_factors(0.1, 24)
    assert factors.shape == (24,)
    np.testing.assert_allclose(factors, [1.1 ** (-m / 12) for m in range(1, 25)], rtol=1e-14)
    assert factors[11] == pytest.approx(1 / 1.1, rel=1e-14)
    assert np.all(np.diff(factors) < 0)
    assert np.array_equal(discount_factors(0.0, 3), np.ones(3))
    assert discount_factors(0.1, 0).shape == (0,)
    with pytest.raises(ValueError):
        discount_factors(-1.0, 3)
    with pytest.raises(ValueError):
        discount_factors(0.1, -1)


def test_predicted_clv_discounts_with_discount_factors(bg_fit, gg_fit):
    """predict_clv's monthly discounting is discount_factors: with one month of horizon,
    the discounted CLV is the undiscounted one times the first factor."""
    args = ([3.0], [20.0], [30.0], [50.0], bg_fit, gg_fit)
    undiscounted = predict_clv(*args, horizon_months=1, annual_discount_rate=0.0).predicted_clv[0]
    discounted = predict_clv(*args, horizon_months=1, annual_discount_rate=0.25).predicted_clv[0]
    assert discounted == pytest.approx(undiscounted * discount_factors(0.25, 1)[0], rel=1e-12)


def test_numerical_hessian_of_known_function():
    def grad(v):
        x, y = v
        return np.array([2 * x * y**3 + np.cos(x), 3 * x**2 * y**2])

    point = np.array([0.7, -1.3])
    exact = np.array(
        [
            [2 * point[1] ** 3 - np.sin(point[0]), 6 * point[0] * point[1] ** 2],
            [6 * point[0] * point[1] ** 2, 6 * point[0] ** 2 * point[1]],
        ]
    )
    np.testing.assert_allclose(numerical_hessian(grad, point), exact, rtol=1e-7)
    np.testing.assert_allclose(numerical_hessian(grad, point, grad_at_x=grad(point)), exact, rtol=1e-4)


def test_warm_start_newton_path_gives_the_same_optimum(bg_fit, gg_fit, data, monkeypatch):
    """Large inputs are first fitted on a thinned copy and then polished with Newton
    steps; forcing that path on the test data must land on the same optimum."""
    import customer_value.clv.bgnbd as bgnbd_module
    import customer_value.clv.gamma_gamma as gg_module

    monkeypatch.setattr(bgnbd_module, "_WARM_START_ROWS", 5000)
    monkeypatch.setattr(gg_module, "_WARM_START_ROWS", 5000)
    bg2 = fit_bgnbd(data["x"], data["t_x"], data["T"])
    gg2 = fit_gamma_gamma(data["x"], data["m"])
    assert bg2.converged and gg2.converged
    for k, v in bg_fit.params.items():
        assert bg2.params[k] == pytest.approx(v, rel=1e-6)
    for k, v in gg_fit.params.items():
        assert gg2.params[k] == pytest.approx(v, rel=1e-6)
    assert bg2.log_likelihood == pytest.approx(bg_fit.log_likelihood, rel=1e-12)
    assert bg2.standard_errors["r"] == pytest.approx(bg_fit.standard_errors["r"], rel=1e-3)


def test_threaded_chunks_give_the_same_results(bg_fit, gg_fit, data, monkeypatch):
    """Big inputs split the per-row sums and predictions over threads; force that path
    on the test data (two chunks) and compare with the single-chunk results."""
    import customer_value.clv._common as common

    sl = slice(0, 20000)
    args = [data[k][sl] for k in ("x", "t_x", "T", "m")]
    single = predict_clv(*args, bg_fit, gg_fit, horizon_months=12, margin_rate=0.3, annual_discount_rate=0.1)
    monkeypatch.setattr(common, "N_THREADS", 2)
    monkeypatch.setattr(common, "_PARALLEL_MIN_ROWS", 1000)
    bg2 = fit_bgnbd(data["x"], data["t_x"], data["T"])
    gg2 = fit_gamma_gamma(data["x"], data["m"])
    assert bg2.log_likelihood == pytest.approx(bg_fit.log_likelihood, rel=1e-12)
    assert gg2.log_likelihood == pytest.approx(gg_fit.log_likelihood, rel=1e-12)
    for k, v in bg_fit.params.items():
        assert bg2.params[k] == pytest.approx(v, rel=1e-7)
    threaded = predict_clv(*args, bg_fit, gg_fit, horizon_months=12, margin_rate=0.3, annual_discount_rate=0.1)
    np.testing.assert_allclose(threaded.predicted_clv, single.predicted_clv, rtol=1e-12)
    np.testing.assert_allclose(threaded.probability_alive, single.probability_alive, rtol=1e-12)
