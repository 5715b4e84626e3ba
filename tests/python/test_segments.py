"""Segments against the generator's truth: the decisions, not only the formulas.

The generator knows every customer's true referral rate (``referral_rate``) and when
they stopped buying (``dropout_at``), in ``_truth/customer_latent.parquet``.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from dbt_helpers import DbtResult, assert_build_ok, generate, rewrite_parquet, run_dbt


def with_truth(result: DbtResult, raw: Path, sql: str) -> list[tuple]:
    """Run `sql` with the mart as `segments` and the generator's truth as `truth`."""
    with duckdb.connect(str(result.database), read_only=True) as con:
        con.execute(
            f"create temp view truth as select * from read_parquet('{raw / '_truth' / 'customer_latent.parquet'}')"
        )
        con.execute("create temp view segments as select * from marts.customer_segments")
        return con.execute(sql).fetchall()


def high_crv_scores(result: DbtResult, raw: Path) -> dict[str, float]:
    """Precision and recall of is_high_crv against the buyers whose true referral rate
    is in the top quarter, and the share of high-CRV buyers with no referral record."""
    [row] = with_truth(
        result,
        raw,
        """
        with buyers as (
            select segments.*, truth.referral_rate
            from segments inner join truth using (customer_id)
            where not segments.is_prospect
        ),
        cut as (select quantile_cont(referral_rate, 0.75) as top_quarter from buyers)
        select
            count(*) filter (where is_high_crv),
            count(*) filter (where is_high_crv and referral_rate >= top_quarter),
            count(*) filter (where referral_rate >= top_quarter),
            count(*) filter (where is_high_crv and referrals_made_count = 0),
            count(*) filter (where is_high_crv and converted_referral_count = 0)
        from buyers cross join cut
        """,
    )
    high, hits, true_top, never_referred, never_converted = row
    return {
        "high_crv": high,
        "precision": hits / high,
        "recall": hits / true_top,
        "never_referred_share": never_referred / high,
        "no_converted_referee_share": never_converted / high,
    }


def test_high_crv_finds_the_true_referrers(clean_build):
    """Measured on these 3,000 customers (seed 7): 280 high-CRV buyers, precision 0.69,
    recall 0.32, none without a referral made, 14 % without a converted referee (their
    invitations credibly beat the population's rate). The old percentile-only rule
    gave 592, 0.41 / 0.41, with 59 % of high-CRV buyers who had never brought anyone.
    Recall is bounded by evidence: many of the true top quarter had not made a single
    referral by as_of_date."""
    raw, result = clean_build
    scores = high_crv_scores(result, raw)
    assert scores["high_crv"] > 50, scores
    assert scores["precision"] >= 0.6, scores
    assert scores["recall"] >= 0.2, scores
    assert scores["never_referred_share"] == 0, scores
    assert scores["no_converted_referee_share"] <= 0.15, scores


def test_every_customer_has_a_segment_and_an_action(clean_build):
    _, result = clean_build
    [(customers, with_segment, with_action, prospects_as_misers)] = result.query(
        "select count(*), count(value_segment), count(recommended_action),"
        " count(*) filter (where is_prospect and value_segment = 'miser') from marts.customer_segments"
    )
    assert customers == with_segment == with_action
    assert prospects_as_misers == 0


def test_groups_hold_on_the_truth(clean_build):
    """Loyal light buyers are alive; at-risk high-value customers have mostly really
    stopped buying (the generator's dropout_at); both are decided on behaviour."""
    raw, result = clean_build
    [(light, light_alive, at_risk, at_risk_gone)] = with_truth(
        result,
        raw,
        """
        select
            count(*) filter (where is_loyal_light_buyer),
            count(*) filter (where is_loyal_light_buyer and (dropout_at is null or dropout_at > as_of_date)),
            count(*) filter (where is_at_risk_high_value),
            count(*) filter (where is_at_risk_high_value and dropout_at <= as_of_date)
        from segments inner join truth using (customer_id)
        """,
    )
    assert light > 0 and at_risk > 20
    assert light_alive / light >= 0.6
    assert at_risk_gone / at_risk >= 0.8
    lapsed = result.query(
        "select count(*) from marts.customer_segments where is_loyal_light_buyer"
        " and (recent_net_revenue <= 0 or not is_active)"
    )
    assert lapsed == [(0,)]


def test_nobody_referred_gives_no_champions_or_advocates(tmp_path):
    """A referrals file with no rows: CRV is known (zero realized, prior only) but
    nobody has shown referral value, so nobody is high CRV."""
    raw = generate(tmp_path / "raw", "--customers", "800", "--seed", "5")
    rewrite_parquet(raw / "referrals.parquet", "select * from t where false")
    result = run_dbt(raw, tmp_path / "build")
    assert_build_ok(result)
    segments = dict(
        result.query("select value_segment, count(*) from marts.customer_segments group by value_segment")
    )
    assert "champion" not in segments and "advocate" not in segments, segments
    assert segments.get("affluent", 0) > 0 and segments.get("miser", 0) > 0, segments
    assert result.query("select count(*) from marts.customer_segments where crv is null") == [(0,)]
