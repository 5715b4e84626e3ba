"""The data choose the purchase model (customer_value.clv.selection): on customers simulated
from each model's own story, the comparison on the holdout picks that model; the rules of
the choice (noise, the var, no usable holdout) hold on hand-made cases."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from clv_truth import simulate

from customer_value.clv.purchase_models import PURCHASE_MODELS
from customer_value.clv.selection import HoldoutData, choose_model, comparison_table, excess_z

AS_OF = dt.date(2026, 6, 30)
CALIBRATION_END = dt.date(2025, 6, 30)
SPEND = {"p": 6.0, "q": 3.5, "v": 40.0}
#: Populations far enough apart that a year's holdout tells them apart.
TRUTHS = {
    "bg_nbd": {"r": 0.75, "alpha": 9.0, "a": 0.8, "b": 2.5},
    "mbg_nbd": {"r": 0.75, "alpha": 9.0, "a": 0.8, "b": 2.5},
    "pareto_nbd": {"r": 0.75, "alpha": 9.0, "s": 0.6, "beta": 12.0},
}
ALL_CONVERGED = {"bg_nbd": True, "mbg_nbd": True, "pareto_nbd": True}


def holdout_data(model: str, n: int, seed: int) -> HoldoutData:
    """Customers of ``model`` with up to three years of calibration history and a year of holdout."""
    population = simulate(model, n, seed, TRUTHS[model], SPEND, horizon_weeks=52.0)
    return HoldoutData(
        frequency=population.x.astype(float),
        recency=population.t_x,
        T=population.T,
        monetary=population.monetary,
        holdout_purchases=population.future_days.astype(float),
        holdout_revenue=population.future_value,
        holdout_weeks=52.0,
    )


def full_fits(data: HoldoutData) -> dict:
    """Each purchase model fitted on the summary (standing in for the whole history)."""
    return {name: model.fit(data.frequency, data.recency, data.T) for name, model in PURCHASE_MODELS.items()}


def compare(data: HoldoutData, **kwargs) -> dict[str, dict]:
    arguments = {
        "full_converged": ALL_CONVERGED,
        "full_log_likelihoods": {name: float(fit.log_likelihood) for name, fit in full_fits(data).items()},
        "requested": "auto",
        "min_customers": 10,
        "as_of_date": AS_OF,
        "calibration_ends_on": CALIBRATION_END,
    } | kwargs
    table = comparison_table(data, **arguments)
    return {row["model_name"]: row for row in table.to_pylist()}


@pytest.mark.parametrize("truth", list(TRUTHS))
def test_the_holdout_chooses_the_model_that_generated_the_data(truth):
    """40,000 customers simulated from each story: the model of that story is chosen, its
    holdout errors are the lowest or within noise of them, and exactly one model is chosen."""
    rows = compare(holdout_data(truth, 40_000, seed=100 + list(TRUTHS).index(truth)))
    chosen = [name for name, row in rows.items() if row["is_chosen"]]
    assert chosen == [truth], {
        name: (row["selection_score"], row["purchases_excess_z"], row["selection_reason"]) for name, row in rows.items()
    }
    assert rows[truth]["is_within_noise"]
    for row in rows.values():
        assert row["actual_holdout_purchases"] == rows[truth]["actual_holdout_purchases"]
        assert (
            row["holdout_by_frequency"] is not None
            and sum(g["customers"] for g in row["holdout_by_frequency"]) == 40_000
        )


def test_holdout_by_frequency_adds_up_to_the_totals():
    data = holdout_data("bg_nbd", 5_000, seed=7)
    rows = compare(data)
    for row in rows.values():
        groups = row["holdout_by_frequency"]
        assert [g["calibration_frequency"] for g in groups] == sorted(g["calibration_frequency"] for g in groups)
        assert groups[-1]["is_last_group"] == (groups[-1]["calibration_frequency"] == 7)
        actual = sum(g["customers"] * g["actual_mean_holdout_purchases"] for g in groups)
        predicted = sum(g["customers"] * g["predicted_mean_holdout_purchases"] for g in groups)
        assert actual == pytest.approx(row["actual_holdout_purchases"])
        assert predicted == pytest.approx(row["predicted_holdout_purchases"])


def test_a_named_model_is_used_whatever_the_holdout_says():
    rows = compare(holdout_data("bg_nbd", 5_000, seed=8), requested="pareto_nbd")
    assert [name for name, row in rows.items() if row["is_chosen"]] == ["pareto_nbd"]
    assert "named by var clv_purchase_model" in rows["pareto_nbd"]["selection_reason"]


def test_without_a_usable_holdout_the_reference_model_predicts():
    """Fewer calibration customers than clv_min_customers: nothing is compared, BG/NBD is
    used and the reason says why."""
    data = holdout_data("mbg_nbd", 8, seed=9)
    rows = compare(data, min_customers=10)
    assert [name for name, row in rows.items() if row["is_chosen"]] == ["bg_nbd"]
    assert "fewer than clv_min_customers" in rows["bg_nbd"]["selection_reason"]
    assert all(row["selection_score"] is None for row in rows.values())


def test_a_model_not_fitted_on_the_whole_history_is_never_chosen():
    rows = compare(
        holdout_data("bg_nbd", 5_000, seed=10), full_converged={"bg_nbd": False, "mbg_nbd": True, "pareto_nbd": True}
    )
    chosen = [name for name, row in rows.items() if row["is_chosen"]]
    assert chosen != ["bg_nbd"] and len(chosen) == 1
    assert rows["bg_nbd"]["selection_reason"] == "not fitted on the history up to as_of_date"


def test_within_noise_the_likelihood_decides():
    """Two models whose holdout errors are equal within noise: the higher log-likelihood
    on the whole history wins, even against a slightly lower selection score."""
    scores = {"bg_nbd": 2.01, "mbg_nbd": 2.0, "pareto_nbd": 2.3}
    within = {"bg_nbd": True, "mbg_nbd": True, "pareto_nbd": False}
    log_likelihoods = {"bg_nbd": -100.0, "mbg_nbd": -120.0, "pareto_nbd": -90.0}
    chosen, reason = choose_model(scores, within, log_likelihoods, ALL_CONVERGED, "auto", None)
    assert chosen == "bg_nbd" and "within noise" in reason
    within["bg_nbd"] = False
    chosen, reason = choose_model(scores, within, log_likelihoods, ALL_CONVERGED, "auto", None)
    assert chosen == "mbg_nbd" and "lowest holdout error" in reason


def test_excess_z_is_the_paired_difference_in_standard_errors():
    rng = np.random.default_rng(0)
    best = rng.normal(0, 1, 10_000)
    worse = best + np.sign(best) * rng.uniform(0.0, 0.2, 10_000)  # every absolute error larger
    assert excess_z(worse, best) > 50
    assert excess_z(best, best) == 0.0
    same_size = best[rng.permutation(10_000)]  # equal in distribution: no systematic excess
    assert abs(excess_z(same_size, best)) < 4
