"""The whole build on a real, public transaction log nobody generated: CDNOW (1997-1998).

customer_value.datasets.cdnow writes the 2,357 customers of the CDNOW sample (the log
behind the published BG/NBD, Pareto/NBD and MBG/NBD estimates, shipped in the lifetimes
wheel) as raw customers and transactions. The build must work on data from the 1990s and
reproduce the published estimates from the raw log.
"""

from __future__ import annotations

import pytest

from customer_value.datasets import cdnow
from dbt_helpers import DbtResult, assert_build_ok, run_dbt

#: Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way", on the CDNOW
#: sample with a 39-week calibration period (T from the first purchase to 1997-09-30).
PUBLISHED_BG_NBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
#: Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves", the same customers'
#: repeat-purchase spend.
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}


@pytest.fixture(scope="module")
def cdnow_build(tmp_path_factory) -> DbtResult:
    """The CDNOW sample built at the end of the papers' calibration period."""
    raw = cdnow.write_raw(tmp_path_factory.mktemp("raw_cdnow"), "sample")
    result = run_dbt(raw, tmp_path_factory.mktemp("build_cdnow"), "--vars", f"{{as_of_date: {cdnow.CALIBRATION_END}}}")
    assert_build_ok(result)
    return result


def parameters(result: DbtResult, model_name: str) -> dict[str, float]:
    return dict(
        result.query(
            "select parameter_name, parameter_value from marts.clv_model_parameters"
            f" where model_name = '{model_name}' and is_converged"
        )
    )


def test_a_1990s_log_builds_and_every_customer_is_segmented(cdnow_build):
    """The CDNOW log (January 1997 to June 1998) builds with every data test; its 2,357
    customers are all in the mart. Eight of them made only $0 purchases, which the data
    contract rejects as out of range (a purchase must have a positive amount): they are
    prospects, with their rows in stg_raw__rejected_rows."""
    [(customers, segmented, as_of)] = cdnow_build.query(
        "select count(*), count(value_segment), any_value(as_of_date) from marts.customer_segments"
    )
    assert customers == 2357 and segmented == customers
    assert str(as_of) == cdnow.CALIBRATION_END
    assert cdnow_build.query(
        "select rejection_reason, count(*) from staging.stg_raw__rejected_rows group by all"
    ) == [("out_of_range", 8)]


def test_published_estimates_come_out_of_the_build(cdnow_build):
    """BG/NBD and Gamma-Gamma fitted inside dbt build on the raw log land on the published
    CDNOW estimates: Gamma-Gamma to the published rounding; BG/NBD within 0.5 %, the
    difference the eight $0-only customers make (the papers count them as buyers; the
    exact reproduction from the raw log with them is in test_purchase_models.py)."""
    bg = parameters(cdnow_build, "bg_nbd")
    for name, published in PUBLISHED_BG_NBD.items():
        assert bg[name] == pytest.approx(published, rel=5e-3), (name, bg)
    gg = parameters(cdnow_build, "gamma_gamma")
    for name, published in PUBLISHED_GAMMA_GAMMA.items():
        assert gg[name] == pytest.approx(published, abs=0.006), (name, gg)
