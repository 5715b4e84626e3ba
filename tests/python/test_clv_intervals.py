"""Tests of customer_value.clv.intervals: predictive purchase counts and CLV intervals.

Expected values come from (a) brute-force Monte Carlo of each model's story given the
posterior of the customer's traits, (b) independent formulas (the negative binomial
tail series of BG/NBD-type counts, scipy.integrate.quad), (c) lifetimes 0.11.3's
MBG/NBD and Pareto/NBD, (d) populations simulated from known parameters (clv_truth.py,
and the project's generator for the full chain raw data -> summary -> fit -> interval).
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, stats
from scipy.special import betaln

sys.path.insert(0, str(Path(__file__).resolve().parent))

from clv_truth import simulate

from customer_value.clv import (
    WEEKS_PER_MONTH,
    BgNbdFit,
    bgnbd_expected_purchases,
    bgnbd_probability_alive,
    fit_bgnbd,
    fit_gamma_gamma,
    predict_clv,
)
from customer_value.clv import intervals as iv
from customer_value.clv.bgnbd import expected_if_alive, probability_alive_raw
from customer_value.clv.intervals import (
    beta_gauss_rule,
    clv_intervals,
    clv_value_distribution,
    count_moments,
    discount_ratio,
    moments_if_alive,
    probability_alive_function,
    sigma_points,
)

BG = {"r": 0.75, "alpha": 9.0, "a": 0.8, "b": 2.5}
PARETO = {"r": 0.55, "alpha": 10.5, "s": 0.6, "beta": 12.0}
GG = {"p": 6.0, "q": 3.5, "v": 40.0}
MODEL_PARAMS = {"bg_nbd": BG, "mbg_nbd": BG, "pareto_nbd": PARETO}
YEAR = 12 * WEEKS_PER_MONTH
REPO = Path(__file__).resolve().parents[2]

#: (x, t_x, T, m): one-time buyers, light and heavy, recent and lapsed
CUSTOMERS = np.array(
    [
        (0, 0.0, 2.0, np.nan),
        (0, 0.0, 60.0, np.nan),
        (0, 0.0, 150.0, np.nan),
        (1, 12.0, 20.0, 35.0),
        (2, 57.0, 60.0, 80.0),
        (3, 30.0, 150.0, 50.0),
        (4, 19.0, 20.0, 120.0),
        (8, 1.9, 2.0, 40.0),
        (20, 57.0, 60.0, 70.0),
        (20, 142.0, 150.0, 25.0),
    ]
)


def _lifetimes_fitter(model: str):
    lifetimes = pytest.importorskip("lifetimes")
    import pandas as pd

    fitter = {"mbg_nbd": lifetimes.ModifiedBetaGeoFitter, "pareto_nbd": lifetimes.ParetoNBDFitter}[model]()
    fitter.params_ = pd.Series(MODEL_PARAMS[model])
    return fitter


def _alive(model: str, x, t_x, T, params=None) -> np.ndarray:
    """P(alive) of the true model: our closed forms (BG/NBD, MBG/NBD), lifetimes (Pareto/NBD)."""
    params = params or MODEL_PARAMS[model]
    if model == "pareto_nbd":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.asarray(_lifetimes_fitter(model).conditional_probability_alive(x, t_x, T), dtype=float)
    return probability_alive_function(model, x, t_x, T)(tuple(params.values()))


def _posterior_futures(model: str, x: float, T: float, alive_prob: float, t: float, n: int, rng, params=None):
    """Brute force: draw the traits from their posterior given alive, aliveness from
    P(alive), and the purchase days in the next t weeks; returns N per draw."""
    P = params or MODEL_PARAMS[model]
    lam = rng.gamma(P["r"] + x, 1.0 / (P["alpha"] + T), n)
    if model == "pareto_nbd":
        mu = rng.gamma(P["s"], 1.0 / (P["beta"] + T), n)
        count = rng.poisson(lam * np.minimum(rng.exponential(1.0 / mu), t))
    else:
        p = rng.beta(P["a"], P["b"] + x + (1 if model == "mbg_nbd" else 0), n)
        count = np.minimum(rng.poisson(lam * t), rng.geometric(p))
    return np.where(rng.random(n) < alive_prob, count, 0)


# --------------------------------------------------------------------------- count moments


@pytest.mark.parametrize("model", ["bg_nbd", "mbg_nbd", "pareto_nbd"])
def test_count_moments_match_brute_force_monte_carlo(model):
    x, t_x, T, _ = CUSTOMERS.T
    alive = _alive(model, x, t_x, T)
    t = YEAR
    cm = count_moments(model, t, x, T, alive, MODEL_PARAMS[model])
    rng = np.random.default_rng(11)
    for i in range(len(x)):
        N = _posterior_futures(model, x[i], T[i], alive[i], t, 400_000, rng)
        se = np.sqrt(np.array([(N == 0).var(), N.var(), (N.astype(float) ** 2).var()]) / len(N))
        got = np.array([cm.p_zero[i], cm.mean[i], cm.second_moment[i]])
        mc = np.array([(N == 0).mean(), N.mean(), (N.astype(float) ** 2).mean()])
        assert np.all(np.abs(got - mc) <= 5 * se + 1e-12), (model, i, got, mc, se)


def test_bgnbd_mean_is_the_model_expected_purchases():
    """E[N] = P(alive) x expected_if_alive: the BG/NBD's conditional expected purchases."""
    pop = simulate("bg_nbd", 20_000, 3, BG, GG)
    fit = BgNbdFit(**BG, log_likelihood=0.0, n_customers=0, converged=True, message="truth")
    alive = bgnbd_probability_alive(pop.x, pop.t_x, pop.T, fit)
    for t in (4.0, YEAR, 156.0):
        cm = count_moments("bg_nbd", t, pop.x, pop.T, alive, BG)
        np.testing.assert_allclose(cm.mean, bgnbd_expected_purchases(t, pop.x, pop.t_x, pop.T, fit), rtol=1e-10)
        k0 = (1 + t / (BG["alpha"] + pop.T)) ** -(BG["r"] + pop.x)  # P(no purchase | alive), by hand
        np.testing.assert_allclose(cm.p_zero, 1 - alive * (1 - k0), rtol=1e-12)
        assert np.all(cm.second_moment >= cm.mean**2)


@pytest.mark.parametrize("model", ["mbg_nbd", "pareto_nbd"])
def test_mbgnbd_and_paretonbd_match_lifetimes(model):
    """E[N] against lifetimes' conditional expected purchases (the paper formulas: Batislam
    et al. 2007 / Schmittlein et al.'s eq. in Fader & Hardie's note 009), and for the
    Pareto/NBD P(N = 0) against lifetimes' conditional pmf (Fader & Hardie's note 028)."""
    fitter = _lifetimes_fitter(model)
    pop = simulate(model, 5000, 4, MODEL_PARAMS[model], GG)
    x, t_x, T = pop.x, pop.t_x, pop.T
    alive = _alive(model, x, t_x, T)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if model == "mbg_nbd":
            np.testing.assert_allclose(alive, fitter.conditional_probability_alive(x, t_x, T), rtol=1e-12)
        for t in (10.0, YEAR):
            cm = count_moments(model, t, x, T, alive, MODEL_PARAMS[model])
            theirs = fitter.conditional_expected_number_of_purchases_up_to_time(t, x, t_x, T)
            ok = np.isfinite(theirs)
            assert ok.mean() > 0.99
            np.testing.assert_allclose(cm.mean[ok], theirs[ok], rtol=1e-9)
            if model == "pareto_nbd":
                sl = slice(0, 1000)
                p0 = fitter.conditional_probability_of_n_purchases_up_to_time(0, t, x[sl], t_x[sl], T[sl])
                np.testing.assert_allclose(cm.p_zero[sl], p0, rtol=1e-9)


def _negative_binomial_series(model: str, t: float, x: float, T: float) -> tuple[float, float, float]:
    """Given alive: P(N=0), E[N], E[N^2] from P(N >= n) = P(K >= n) E[(1-p)^(n-1)] (K
    negative binomial, nbinom.sf; the Beta ratio B(a, b'+n-1)/B(a, b')), summed term by
    term until the tail is negligible: an independent derivation of the same moments."""
    r, alpha, a, b = BG.values()
    bp = b + x + (1 if model == "mbg_nbd" else 0)
    R, prob = r + x, (alpha + T) / (alpha + T + t)
    n = np.arange(1, 20_000, dtype=float)
    tail = stats.nbinom.sf(n - 1, R, prob) * np.exp(betaln(a, bp + n - 1) - betaln(a, bp))
    return float(prob**R), float(tail.sum()), float(((2 * n - 1) * tail).sum())


@pytest.mark.parametrize("model", ["bg_nbd", "mbg_nbd"])
def test_bgnbd_type_moments_against_the_tail_series(model):
    rows = [(0, 0.0), (0, 150.0), (1, 20.0), (5, 10.0), (30, 100.0), (200, 150.0)]
    x = np.array([r[0] for r in rows], dtype=float)
    T = np.array([r[1] for r in rows])
    for t in (2.0, YEAR, 156.0):
        p_pos, m1, m2 = moments_if_alive(model, t, x, T, BG)
        for i in range(len(rows)):
            p0, e1, e2 = _negative_binomial_series(model, t, x[i], T[i])
            assert 1 - p_pos[i] == pytest.approx(p0, rel=1e-12)
            assert m1[i] == pytest.approx(e1, rel=1e-9)
            assert m2[i] == pytest.approx(e2, rel=1e-9)


def test_moments_stay_accurate_for_large_t_over_alpha_plus_T():
    """k = t/(alpha+T) up to ~300 (T = 0, alpha = 0.5, three years) and awkward a: the
    quadrature grows with k (up to 1024 nodes) and still agrees with eq. 10 / the series."""
    for params in [(0.75, 0.5, 0.8, 2.5), (0.3, 0.5, 0.1, 0.2), (5.0, 1.0, 3.0, 40.0)]:
        x = np.array([0.0, 1.0, 3.0, 0.0])
        T = np.array([0.0, 0.5, 0.5, 5.0])
        t = 156.0
        _p_pos, m1, m2 = moments_if_alive("bg_nbd", t, x, T, params)
        np.testing.assert_allclose(m1, expected_if_alive(np.full(4, t), x, T, *params), rtol=1e-9)
        assert np.all(m2 >= m1**2) and np.all(np.isfinite(m2))


def _pareto_moments_by_quad(r, alpha, s, beta, x, T, t):
    """P(N = 0), E[N] and E[N^2] in (T, T + t] given alive, by quad over the lifetime tau."""
    R, A, S, B = r + x, alpha + T, s, beta + T
    tail = (1 + t / B) ** -S

    def f(u):  # density of tau on (0, t)
        return S / B * (1 + u / B) ** (-S - 1)

    def e(g):
        v, _ = integrate.quad(
            lambda u: g(u) * f(u), 0, t, epsabs=0, epsrel=1e-13, limit=400, points=[t * 1e-6, t * 1e-4, t * 1e-2]
        )
        return v + tail * g(t)

    p0 = e(lambda u: (1 + u / A) ** -R)
    e1 = e(lambda u: R * u / A)
    e2 = e(lambda u: R * u / A + R * (R + 1) * (u / A) ** 2)
    return p0, e1, e2


def test_pareto_moments_against_quadrature(monkeypatch):
    """E[N], E[N^2], P(N = 0) given alive by scipy quad over the lifetime tau, including
    regions where scipy's hyp2f1 fails (large r + x, z near 1) and the graded
    Gauss-Legendre fallback is used."""
    cases = [  # r, alpha, s, beta, x, T, t
        (0.55, 10.5, 0.6, 12.0, 0, 0.0, YEAR),
        (0.55, 10.5, 0.6, 12.0, 3, 100.0, YEAR),
        (2.0, 1.0, 5.0, 50.0, 10, 3.0, 156.0),
        (0.3, 50.0, 0.2, 2.0, 1, 10.0, 30.0),
        (10.0, 410.0, 5.75, 0.526, 500, 0.0, 16.2),
        (1.0, 321.0, 0.0686, 0.896, 631, 0.0, 1.36),
    ]
    fallback = []
    real = iv._pareto_p_zero_quadrature
    monkeypatch.setattr(iv, "_pareto_p_zero_quadrature", lambda *a: fallback.append(len(a[0])) or real(*a))
    for r, alpha, s, beta, x, T, t in cases:
        p0, e1, e2 = _pareto_moments_by_quad(r, alpha, s, beta, x, T, t)
        p_pos, m1, m2 = moments_if_alive("pareto_nbd", t, np.array([float(x)]), np.array([T]), (r, alpha, s, beta))
        assert 1 - p_pos[0] == pytest.approx(p0, rel=1e-9)
        assert m1[0] == pytest.approx(e1, rel=1e-10)
        assert m2[0] == pytest.approx(e2, rel=1e-10)
    assert len(fallback) == 2  # the last two cases: scipy's hyp2f1 is NaN there


def test_beta_gauss_rule_reproduces_beta_moments():
    """Exact for polynomials of degree < 2n: E[p^j] = prod_{i<j} (a+i)/(a+b+i), for small
    and huge b (nodes near 0) and on both eigen-solvers (n <= 64 batched, n > 64 tridiagonal)."""
    a = 0.8
    b = np.array([0.3, 2.5, 5000.0])
    for n in (16, 128):
        nodes, weights = beta_gauss_rule(a, b, n)
        np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-14)
        assert np.all((nodes > 0) & (nodes < 1))
        for j in range(1, min(2 * n, 12)):
            exact = np.prod([(a + i) / (a + b + i) for i in range(j)], axis=0)
            np.testing.assert_allclose((weights * nodes**j).sum(axis=1), exact, rtol=1e-10)


def test_count_moments_edge_cases():
    cm = count_moments("bg_nbd", 0.0, [0, 3], [10.0, 20.0], [1.0, 0.4], BG)
    np.testing.assert_array_equal(cm.p_zero, [1.0, 1.0])
    np.testing.assert_array_equal(cm.mean, [0.0, 0.0])
    cm = count_moments("bg_nbd", YEAR, [1, -1, 2.5, np.nan, 1], [10.0, 10.0, 10.0, 10.0, 10.0], [0.0, 1, 1, 1, 1.5], BG)
    assert cm.p_zero[0] == 1.0 and cm.mean[0] == 0.0  # dead for sure
    assert np.isnan(cm.mean[1:]).all()  # invalid frequency or P(alive)
    with pytest.raises(ValueError, match="unknown purchase model"):
        count_moments("nbd", YEAR, [1], [1.0], [1.0], BG)


# --------------------------------------------------------------------------- value distribution


def _brute_force_values(model, x, T, m, alive_prob, t, n, rng, params=None, gg=GG):
    N = _posterior_futures(model, x, T, alive_prob, t, n, rng, params)
    m_used = 0.0 if x == 0 else max(m, 0.0)
    nu = rng.gamma(gg["q"] + gg["p"] * x, 1.0 / (gg["v"] + x * m_used), n)
    return np.where(N > 0, rng.gamma(np.maximum(N * gg["p"], 1e-300)) / nu, 0.0)


@pytest.mark.parametrize("model", ["bg_nbd", "mbg_nbd", "pareto_nbd"])
def test_interval_levels_match_brute_force_monte_carlo(model):
    """Each customer's interval holds its brute-force predictive distribution with the
    promised probability: 80 %, or P0 for the [0, 0] intervals; central ones leave ~10 %
    on each side.  The approximation's error is at most ~2 points (heavy buyers)."""
    x, t_x, T, m = CUSTOMERS.T
    alive = _alive(model, x, t_x, T)
    dist = clv_value_distribution(model, MODEL_PARAMS[model], None, GG, None, x, T, m, alive, 1.0, 1.0, YEAR)
    low, high = dist.interval(0.8)
    cm = count_moments(model, YEAR, x, T, alive, MODEL_PARAMS[model])
    np.testing.assert_allclose(dist.p_zero, cm.p_zero, rtol=1e-12)
    rng = np.random.default_rng(12)
    for i in range(len(x)):
        v = _brute_force_values(model, x[i], T[i], m[i], alive[i], YEAR, 300_000, rng)
        below, above = np.mean(v < low[i]), np.mean(v > high[i])
        nominal = max(0.8, dist.p_zero[i])
        assert 1 - below - above == pytest.approx(nominal, abs=0.025), (model, i, below, above, dist.p_zero[i])
        if dist.p_zero[i] < 0.1:  # central: both tails ~10 %
            assert below == pytest.approx(0.1, abs=0.025) and above == pytest.approx(0.1, abs=0.025)
        else:
            assert low[i] == 0.0
        if dist.p_zero[i] >= 0.8:
            assert high[i] == 0.0
        # and the distribution's mean is E[N] x expected spend
        spend = GG["p"] * (GG["v"] + x[i] * np.nan_to_num(m[i])) / (GG["p"] * x[i] + GG["q"] - 1)
        assert dist.mean[i] == pytest.approx(cm.mean[i] * spend, rel=1e-12)
        assert v.mean() == pytest.approx(dist.mean[i], rel=0.05, abs=0.05)


def test_randomized_pit_is_uniform_under_the_model():
    """Values drawn from the (approximate) distribution itself by inversion must give a
    uniform randomised PIT, atom included; and quantile inverts the CDF."""
    x, t_x, T, m = CUSTOMERS.T
    alive = _alive("bg_nbd", x, t_x, T)
    dist = clv_value_distribution("bg_nbd", BG, None, GG, None, x, T, m, alive, 0.3, 0.9, YEAR)
    rng = np.random.default_rng(5)
    for u in (0.05, 0.3, 0.85, 0.97):
        q = dist.quantile(u)
        lo, hi = dist.cdf(q)
        assert np.all(lo <= u + 1e-9) and np.all(hi >= u - 1e-9)
        pos = q > 0
        np.testing.assert_allclose(hi[pos], u, atol=1e-9)
    draws = np.stack([dist.quantile(u) for u in rng.random(4000)])
    pit = np.stack([dist.randomized_pit(d, rng.random(len(x))) for d in draws])
    for col in pit.T:
        assert stats.kstest(col, "uniform").pvalue > 1e-3


def test_discounting_with_the_ratio_keeps_the_levels():
    """Purchase days discounted by their own month (30 % a year, exaggerated) against
    the interval built with the customer's average factor (predicted CLV / undiscounted)."""
    rate = 0.3
    pop = simulate("bg_nbd", 30_000, 8, BG, GG, annual_discount_rate=rate)
    fit = BgNbdFit(**BG, log_likelihood=0.0, n_customers=0, converged=True, message="truth")
    from customer_value.clv import GammaGammaFit

    gg = GammaGammaFit(**GG, log_likelihood=0.0, n_customers=0, converged=True, message="truth")
    pred = predict_clv(pop.x, pop.t_x, pop.T, pop.monetary, fit, gg, horizon_months=12, annual_discount_rate=rate)
    ratio = discount_ratio(pred.predicted_clv, pred.expected_purchases, pred.expected_spend, 1.0)
    assert np.all((ratio > 1.3**-1) & (ratio < 1.0))
    alive = probability_alive_function("bg_nbd", pop.x, pop.t_x, pop.T)
    dist = clv_value_distribution("bg_nbd", BG, None, GG, None, pop.x, pop.T, pop.monetary, alive, 1.0, ratio, YEAR)
    np.testing.assert_allclose(dist.mean, pred.predicted_clv, rtol=1e-9)
    pit = dist.randomized_pit(pop.future_value, np.random.default_rng(1).random(len(pop.x)))
    assert np.mean((pit >= 0.1) & (pit <= 0.9)) == pytest.approx(0.8, abs=0.012)
    assert np.mean(pit > 0.9) == pytest.approx(0.1, abs=0.01)
    undiscounted = clv_value_distribution(
        "bg_nbd", BG, None, GG, None, pop.x, pop.T, pop.monetary, alive, 1.0, 1.0, YEAR
    )
    pit_u = undiscounted.randomized_pit(pop.future_value, np.random.default_rng(1).random(len(pop.x)))
    assert np.mean(pit_u > 0.9) < np.mean(pit > 0.9) - 0.01  # ignoring the discount is visibly off


@pytest.mark.parametrize("model", ["bg_nbd", "mbg_nbd", "pareto_nbd"])
def test_coverage_on_simulated_populations(model):
    """30,000 customers simulated from known parameters, intervals from the same
    parameters: randomised-PIT coverage 80 % (the exact calibration measure), plain
    coverage equal to what the model promises (80 %, or P0 for [0, 0] intervals)."""
    pop = simulate(model, 30_000, 21, MODEL_PARAMS[model], GG)
    alive = _alive(model, pop.x, pop.t_x, pop.T)
    dist = clv_value_distribution(
        model, MODEL_PARAMS[model], None, GG, None, pop.x, pop.T, pop.monetary, alive, 1.0, 1.0, YEAR
    )
    low, high = dist.interval(0.8)
    inside = (pop.future_value >= low) & (pop.future_value <= high)
    promised = np.where(dist.p_zero < 0.8, 0.8, dist.p_zero)
    pit = dist.randomized_pit(pop.future_value, np.random.default_rng(2).random(len(pop.x)))
    assert np.mean((pit >= 0.1) & (pit <= 0.9)) == pytest.approx(0.8, abs=0.012)
    assert inside.mean() == pytest.approx(promised.mean(), abs=0.012)
    for lo, hi in [(0.0, 0.3), (0.3, 0.8)]:
        band = (dist.p_zero >= lo) & (dist.p_zero < hi)
        assert band.sum() > 1000
        assert inside[band].mean() == pytest.approx(0.8, abs=0.025), (lo, hi)


def test_interval_edge_cases():
    common = ("bg_nbd", BG, None, GG, None)
    x = np.array([3.0, 3.0, 3.0, 0.0, 3.0, np.nan, 3.0, 3.0])
    T = np.array([30.0, 30.0, 30.0, 10.0, 30.0, 30.0, 30.0, 30.0])
    m = np.array([50.0, 50.0, 50.0, np.nan, -20.0, 50.0, np.nan, 50.0])
    alive = np.array([0.9, 0.9, 0.001, 1.0, 0.9, 0.9, 0.9, 0.9])
    margin = np.array([0.3, -0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.0])
    ratio = np.array([0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95])
    low, high = clv_intervals(*common, x, T, m, alive, margin, ratio, YEAR)
    assert 0.0 <= low[0] < high[0]
    assert low[1] == pytest.approx(-high[0]) and high[1] == pytest.approx(-low[0])  # negative margin: mirrored
    assert low[2] == high[2] == 0.0  # almost surely dead: [0, 0]
    assert np.isfinite(high[3]) and high[3] > 0  # one-time buyer: monetary not needed
    assert 0 < high[4] < high[0]  # refunds left monetary <= 0: scored with m = 0
    assert np.isnan(low[5]) and np.isnan(high[6])  # invalid frequency, missing monetary
    assert low[7] == high[7] == 0.0  # zero margin
    low0, high0 = clv_intervals(*common, x[:1], T[:1], m[:1], alive[:1], 0.3, np.nan, YEAR)
    assert np.isnan(low0[0]) and np.isnan(high0[0])  # no predicted CLV -> no interval
    low_h, high_h = clv_intervals(*common, x[:1], T[:1], m[:1], alive[:1], 0.3, 1.0, 0.0)
    assert low_h[0] == high_h[0] == 0.0  # no horizon
    narrow = clv_intervals(*common, x[:1], T[:1], m[:1], alive[:1], 0.3, 0.95, YEAR, level=0.5)
    wide = clv_intervals(*common, x[:1], T[:1], m[:1], alive[:1], 0.3, 0.95, YEAR, level=0.95)
    assert narrow[1][0] < high[0] < wide[1][0]

    def alive_fails_for_the_first(params):
        out = np.full(len(x), 0.9)
        out[0] = np.nan
        return out

    low_f, high_f = clv_intervals(*common, x, T, m, alive_fails_for_the_first, margin, ratio, YEAR)
    assert np.isnan(low_f[0]) and np.isnan(high_f[0]) and high_f[4] == pytest.approx(high[4])
    with pytest.raises(ValueError):
        clv_intervals(*common, x, T, m, alive, margin, ratio, YEAR, level=1.0)
    with pytest.raises(ValueError, match="Gamma-Gamma"):
        clv_intervals("bg_nbd", BG, None, {"p": 6.0, "q": 0.9, "v": 40.0}, None, x, T, m, alive, 0.3, 1.0, YEAR)


def test_same_bits_whatever_the_chunking_and_threads(monkeypatch):
    """Every customer's interval is computed from its own row only: the same bits on one
    thread, on two threads in chunks, and for a subset computed alone."""
    import customer_value.clv._common as common

    pop = simulate("bg_nbd", 6000, 30, BG, GG)
    fit = fit_bgnbd(pop.x, pop.t_x, pop.T)
    gg = fit_gamma_gamma(pop.x, pop.monetary)
    alive = probability_alive_function("bg_nbd", pop.x, pop.t_x, pop.T)

    def run(sl=slice(None)):
        return clv_intervals(
            "bg_nbd",
            fit.params,
            fit.log_covariance,
            gg.params,
            gg.log_covariance,
            pop.x[sl],
            pop.T[sl],
            pop.monetary[sl],
            probability_alive_function("bg_nbd", pop.x[sl], pop.t_x[sl], pop.T[sl]),
            0.3,
            0.95,
            YEAR,
        )

    single = run()
    monkeypatch.setattr(common, "N_THREADS", 2)
    monkeypatch.setattr(common, "_PARALLEL_MIN_ROWS", 500)
    threaded = run()
    part = run(slice(1234, 1777))
    for a, b in zip(single, threaded):
        assert np.array_equal(a, b, equal_nan=True)
    for a, b in zip(single, part):
        assert np.array_equal(a[1234:1777], b, equal_nan=True)
    del alive


# --------------------------------------------------------------------------- parameter uncertainty


def test_sigma_points_reproduce_mean_and_covariance():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4, 4))
    cov = a @ a.T * 0.01
    center = np.log([0.75, 9.0, 0.8, 2.5])
    points, weights = sigma_points(center, cov)
    assert points.shape == (8, 4) and weights.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(weights @ points, center, atol=1e-14)
    dev = points - center
    np.testing.assert_allclose((weights[:, None] * dev).T @ dev, cov, atol=1e-14)
    p1, w1 = sigma_points(center, None)
    assert p1.shape == (1, 4) and w1.tolist() == [1.0]


def test_parameter_uncertainty_matches_the_bayesian_predictive():
    """With the covariance of a 150-customer fit, each interval must hold the value with
    80 % under the *Bayesian* predictive (parameters drawn from N(estimate, covariance),
    then the customer's future): brute force over 400,000 parameter draws.  Without the
    covariance the intervals are narrower and hold less."""
    pop = simulate("bg_nbd", 150, 42, BG, GG)
    bg = fit_bgnbd(pop.x, pop.t_x, pop.T)
    gg = fit_gamma_gamma(pop.x, pop.monetary)
    assert bg.converged and gg.converged
    t = 36 * WEEKS_PER_MONTH
    x, t_x, T, m = np.array([(0, 0, 10, np.nan), (2, 30, 40, 60.0), (6, 50, 52, 80.0), (15, 60, 62, 50.0)]).T
    alive = probability_alive_function("bg_nbd", x, t_x, T)
    with_unc = clv_value_distribution(
        "bg_nbd", bg.params, bg.log_covariance, gg.params, gg.log_covariance, x, T, m, alive, 1.0, 1.0, t
    )
    without = clv_value_distribution("bg_nbd", bg.params, None, gg.params, None, x, T, m, alive, 1.0, 1.0, t)
    rng = np.random.default_rng(1)
    M = 400_000
    r, al, a, b = np.exp(rng.multivariate_normal(np.log(list(bg.params.values())), np.array(bg.log_covariance), M).T)
    lp, lq, lv = rng.multivariate_normal(np.log([gg.p, gg.q - 1, gg.v]), np.array(gg.log_covariance), M).T
    p, q, v = np.exp(lp), 1 + np.exp(lq), np.exp(lv)
    held = {}
    for name, dist in (("with", with_unc), ("without", without)):
        low, high = dist.interval(0.8)
        held[name] = []
        for i in range(len(x)):
            pa = probability_alive_raw(np.full(M, x[i]), np.full(M, t_x[i]), np.full(M, T[i]), r, al, a, b)
            lam = rng.gamma(r + x[i], 1 / (al + T[i]))
            count = np.minimum(rng.poisson(lam * t), rng.geometric(rng.beta(a, b + x[i])))
            N = np.where(rng.random(M) < pa, count, 0)
            nu = rng.gamma(q + p * x[i], 1 / (v + x[i] * np.nan_to_num(m[i])))
            value = np.where(N > 0, rng.gamma(np.maximum(N * p, 1e-300)) / nu, 0.0)
            held[name].append(np.mean((value >= low[i]) & (value <= high[i])) - max(0.8, dist.p_zero[i]))
            if name == "with":
                assert dist.p_zero[i] == pytest.approx(np.mean(N == 0), abs=0.003)
    assert np.all(np.abs(held["with"]) < 0.02), held
    assert np.mean(held["without"]) < np.mean(held["with"]) - 0.003, held
    assert np.all(with_unc.interval(0.8)[1] >= without.interval(0.8)[1] * 0.99)


def test_coverage_of_small_fitted_populations():
    """40 populations of 200 customers, each fitted and predicted: randomised-PIT coverage
    stays near 80 % with and without parameter uncertainty (the customers' own randomness
    dominates a single customer's interval; see docs/validation.md, "Intervals")."""
    covered = {"with": [], "without": []}
    for rep in range(40):
        pop = simulate("bg_nbd", 200, 7000 + rep, BG, GG)
        bg = fit_bgnbd(pop.x, pop.t_x, pop.T)
        gg = fit_gamma_gamma(pop.x, pop.monetary)
        if not (bg.converged and gg.converged):
            continue
        alive = probability_alive_function("bg_nbd", pop.x, pop.t_x, pop.T)
        u = np.random.default_rng(rep).random(len(pop.x))
        for name, cb, cg in (("with", bg.log_covariance, gg.log_covariance), ("without", None, None)):
            dist = clv_value_distribution(
                "bg_nbd", bg.params, cb, gg.params, cg, pop.x, pop.T, pop.monetary, alive, 1.0, 1.0, YEAR
            )
            pit = dist.randomized_pit(pop.future_value, u)
            covered[name].append(np.mean((pit >= 0.1) & (pit <= 0.9)))
    assert len(covered["with"]) >= 35
    with_unc, without = np.mean(covered["with"]), np.mean(covered["without"])
    assert with_unc == pytest.approx(0.8, abs=0.015)
    assert without <= with_unc


# --------------------------------------------------------------------------- generated data


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The project's generator (BG/NBD + Gamma-Gamma truth, refunds, currencies, same-day
    splits), 40,000 customers; summary at 2025-06-30 and the next 12 months' net value."""
    from customer_value.clv.holdout import summary_and_holdout

    out = tmp_path_factory.mktemp("gen_intervals")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "customer_value.generator",
            "--customers",
            "40000",
            "--seed",
            "5",
            "--out",
            str(out),
            "--quiet",
        ],
        check=True,
        cwd=REPO,
    )
    return summary_and_holdout(out, dt.date(2025, 6, 30), annual_discount_rate=0.10)


@pytest.mark.parametrize("annual_discount_rate", [0.0, 0.10])
def test_coverage_on_generated_data(generated, annual_discount_rate):
    df = generated
    x, t_x, T, m = (df[c].to_numpy() for c in ("frequency", "recency", "T", "monetary"))
    actual = df["actual_value" if annual_discount_rate == 0 else "actual_value_discounted"].to_numpy()
    bg = fit_bgnbd(x, t_x, T)
    gg = fit_gamma_gamma(x, m)
    assert bg.converged and gg.converged
    pred = predict_clv(x, t_x, T, m, bg, gg, horizon_months=12, annual_discount_rate=annual_discount_rate)
    ratio = discount_ratio(pred.predicted_clv, pred.expected_purchases, pred.expected_spend, 1.0)
    dist = clv_value_distribution(
        "bg_nbd",
        bg.params,
        bg.log_covariance,
        gg.params,
        gg.log_covariance,
        x,
        T,
        m,
        probability_alive_function("bg_nbd", x, t_x, T),
        1.0,
        ratio,
        YEAR,
    )
    low, high = dist.interval(0.8)
    assert np.all(np.isfinite(low) & np.isfinite(high))
    inside = (actual >= low) & (actual <= high)
    promised = np.where(dist.p_zero < 0.8, 0.8, dist.p_zero)
    pit = dist.randomized_pit(actual, np.random.default_rng(3).random(len(x)))
    assert inside.mean() == pytest.approx(0.8, abs=0.05)  # plain: 82-83 % (the atoms)
    assert inside.mean() == pytest.approx(promised.mean(), abs=0.015)
    assert np.mean((pit >= 0.1) & (pit <= 0.9)) == pytest.approx(0.8, abs=0.015)
    for lo, hi in [(0.0, 0.3), (0.3, 0.5), (0.5, 0.8)]:
        band = (dist.p_zero >= lo) & (dist.p_zero < hi)
        assert band.sum() > 2000
        assert inside[band].mean() == pytest.approx(0.8, abs=0.03), (lo, hi, band.sum())
    np.testing.assert_allclose(dist.mean, pred.predicted_clv, rtol=0.05)


def test_holdout_summary_follows_the_domain_rules(tmp_path):
    """Hand-made transactions: same-day purchases, full and partial refunds, a refund after
    as_of, a second currency, purchases after the horizon and a customer who only starts
    after as_of."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from customer_value.clv.holdout import summary_and_holdout

    rows = [  # id, customer, time, type, amount, currency, refunded id
        ("T1", "A", "2025-01-01 10:00", "purchase", 100.0, "USD", None),
        ("T2", "A", "2025-01-01 15:00", "purchase", 50.0, "USD", None),  # same day: one day of 150
        ("T3", "A", "2025-02-01 09:00", "purchase", 80.0, "USD", None),
        ("R1", "A", "2025-02-05 09:00", "refund", -80.0, "USD", "T3"),  # refunded in full: no day
        ("T4", "A", "2025-03-01 09:00", "purchase", 60.0, "USD", None),
        ("R2", "A", "2025-03-03 09:00", "refund", -20.0, "USD", "T4"),  # a day of 40
        ("T5", "A", "2025-06-20 09:00", "purchase", 30.0, "USD", None),
        ("R3", "A", "2025-07-05 09:00", "refund", -10.0, "USD", "T5"),  # after as_of: not yet known
        ("T6", "A", "2025-08-15 09:00", "purchase", 200.0, "USD", None),
        ("R4", "A", "2025-08-20 09:00", "refund", -50.0, "USD", "T6"),  # hold-out day worth 150
        ("T7", "A", "2026-07-15 09:00", "purchase", 999.0, "USD", None),  # after the horizon
        ("T8", "B", "2025-06-30 23:00", "purchase", 10.0, "EUR", None),  # one-time buyer, T = 0
        ("T9", "B", "2025-12-24 12:00", "purchase", 20.0, "EUR", None),
        ("T10", "C", "2025-07-02 09:00", "purchase", 5.0, "USD", None),  # starts after as_of
    ]
    cols = list(zip(*rows))
    table = pa.table(
        {
            "transaction_id": cols[0],
            "customer_id": cols[1],
            "transacted_at": pa.array([dt.datetime.fromisoformat(v) for v in cols[2]], pa.timestamp("us")),
            "transaction_type": cols[3],
            "amount": pa.array(cols[4], pa.float64()),
            "currency": cols[5],
            "refunded_transaction_id": pa.array(cols[6], pa.string()),
        }
    )
    pq.write_table(table, tmp_path / "transactions.parquet")
    df = summary_and_holdout(tmp_path, dt.date(2025, 6, 30), annual_discount_rate=0.10).set_index("customer_id")
    assert df.index.tolist() == ["A", "B"]
    a, b = df.loc["A"], df.loc["B"]
    assert a.frequency == 2 and a.recency == pytest.approx(170 / 7) and a["T"] == pytest.approx(180 / 7)
    assert a.monetary == pytest.approx(35.0)  # (40 + 30) / 2, the first day left out
    assert a.actual_value == pytest.approx(150.0) and a.actual_days == 1
    assert a.actual_value_discounted == pytest.approx(150.0 * 1.1 ** (-2 / 12))  # 46 days: month 2
    assert b.frequency == 0 and b["T"] == 0 and np.isnan(b.monetary)
    assert b.actual_value == pytest.approx(20 * 1.08) and b.actual_days == 1  # EUR in USD
    assert b.actual_value_discounted == pytest.approx(20 * 1.08 * 1.1 ** (-6 / 12))  # 177 days: month 6
