"""Share of wallet, email engagement and social score on generated data.

The generator knows the truth (``_truth/customer_latent.parquet``): who it made an
influencer and each buyer's true share of wallet. The models must find them.
Each build writes to its own temporary DuckDB file and target folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from dbt_helpers import assert_build_ok, generate, run_dbt

ENGAGEMENT_MODELS = ["int_wallet_shares_estimated", "int_email_engagement_aggregated", "int_social_scores_computed"]
OPTIONAL_SOCIAL_FILES = ["email_events", "referrals", "social_profiles", "community_activity", "wallet_surveys"]


def latent(raw: Path) -> str:
    return f"read_parquet('{raw / '_truth' / 'customer_latent.parquet'}')"


@pytest.fixture(scope="module")
def build_without_optional_files(tmp_path_factory):
    """Only the required files: every engagement measure must say its data is missing."""
    full = generate(tmp_path_factory.mktemp("raw_full"), "--customers", "300", "--seed", "3")
    raw = tmp_path_factory.mktemp("raw_required_only")
    for table in ["customers", "transactions"]:
        shutil.copy(full / f"{table}.parquet", raw / f"{table}.parquet")
    selection = " ".join(f"+{model}" for model in ENGAGEMENT_MODELS)
    # cautious: leave out tests that also read models outside the selection.
    result = run_dbt(
        raw,
        tmp_path_factory.mktemp("build_required_only"),
        "--select",
        selection,
        "--indirect-selection",
        "cautious",
    )
    assert_build_ok(result)
    return raw, result


def test_one_row_per_known_customer(clean_build):
    _, result = clean_build
    [(known,)] = result.query(
        "select count(*) from staging.stg_raw__customers cross join intermediate.int_analysis_settings as s "
        "where created_at < s.as_of_cutoff_at"
    )
    for model in ENGAGEMENT_MODELS:
        assert result.query(f"select count(*), count(distinct customer_id) from intermediate.{model}") == [
            (known, known)
        ], model


def test_influencers_rank_at_the_top_of_social_score(clean_build):
    raw, result = clean_build
    [(influencers, scored, median_percentile, p10_percentile)] = result.query(f"""
        select
            count(*),
            count(social.social_score),
            median(social.social_score_percentile),
            quantile_cont(social.social_score_percentile, 0.1)
        from intermediate.int_social_scores_computed as social
        inner join {latent(raw)} as truth
            on social.customer_id = truth.customer_id
        where truth.is_influencer
    """)
    assert influencers >= 20, "the generator should make some influencers"
    assert scored == influencers, "every influencer has social data"
    assert median_percentile > 0.8
    assert p10_percentile > 0.5


def test_more_social_data_never_lowers_the_social_score(clean_build):
    """A customer without rows in a present source scores 0 on that part, not NULL,
    so customers with only community activity do not outscore those who also have
    profile and participation data (groups from the staged data, not the model)."""
    _, result = clean_build
    rows = {
        group: (n, median_score)
        for group, n, median_score in result.query("""
            with settings as (select * from intermediate.int_analysis_settings),
            community as (
                select distinct activity.customer_id
                from staging.stg_raw__community_activity as activity
                cross join settings
                where activity.occurred_at < settings.as_of_cutoff_at
            ),
            profiles as (
                select profiles.customer_id, bool_or(profiles.followers is not null) as has_followers
                from staging.stg_raw__social_profiles as profiles
                cross join settings
                where profiles.observed_at < settings.as_of_cutoff_at
                group by profiles.customer_id
            ),
            referrers as (
                select distinct referrals.referrer_customer_id as customer_id
                from staging.stg_raw__referrals as referrals
                cross join settings
                where referrals.referred_at < settings.as_of_cutoff_at
            ),
            forwarders as (
                select customer_id from intermediate.int_email_engagement_aggregated where forward_count > 0
            ),
            kinds as (
                select
                    social.social_score,
                    community.customer_id is not null as has_community,
                    coalesce(profiles.has_followers, false) as has_reach,
                    profiles.customer_id is not null
                    or forwarders.customer_id is not null
                    or referrers.customer_id is not null as has_participation
                from intermediate.int_social_scores_computed as social
                left join community on social.customer_id = community.customer_id
                left join profiles on social.customer_id = profiles.customer_id
                left join referrers on social.customer_id = referrers.customer_id
                left join forwarders on social.customer_id = forwarders.customer_id
            )
            select
                case when has_participation and has_reach then 'all_three' else 'community_only' end,
                count(*),
                median(social_score)
            from kinds
            where has_community and (has_participation and has_reach or not (has_participation or has_reach))
            group by all
        """)
    }
    assert set(rows) == {"all_three", "community_only"}, rows
    assert min(n for n, _ in rows.values()) >= 20, rows
    assert rows["all_three"][1] >= rows["community_only"][1], rows


def test_influencers_forward_most(clean_build):
    raw, result = clean_build
    [(influencer_median, others_median)] = result.query(f"""
        select
            median(email.forward_percentile) filter (where truth.is_influencer),
            median(email.forward_percentile) filter (where not truth.is_influencer)
        from intermediate.int_email_engagement_aggregated as email
        inner join {latent(raw)} as truth
            on email.customer_id = truth.customer_id
    """)
    assert influencer_median > 0.8
    assert others_median < influencer_median


def test_share_of_wallet_recovers_the_true_share(clean_build):
    raw, result = clean_build
    rows = {
        source: (n, corr, median_ratio)
        for source, n, corr, median_ratio in result.query(f"""
            select
                wallet.share_of_wallet_source,
                count(*),
                corr(wallet.share_of_wallet, truth.true_share_of_wallet),
                median(wallet.share_of_wallet / truth.true_share_of_wallet)
            from intermediate.int_wallet_shares_estimated as wallet
            inner join {latent(raw)} as truth
                on wallet.customer_id = truth.customer_id
            where wallet.share_of_wallet is not null
                -- a survey window without purchases gives a true 0 spend share
                and (wallet.share_of_wallet_source = 'rank_rule' or wallet.our_spend_in_survey_window > 0)
            group by wallet.share_of_wallet_source
        """)
    }
    assert set(rows) == {"spend", "rank_rule"}
    n, corr, median_ratio = rows["spend"]
    assert n >= 30 and corr > 0.9 and 0.9 < median_ratio < 1.1, rows["spend"]
    n, corr, _ = rows["rank_rule"]
    assert n >= 30 and corr > 0.7, rows["rank_rule"]


def test_missing_measures_are_null_with_a_reason(clean_build):
    _, result = clean_build
    assert result.query("""
        select count(*) from intermediate.int_wallet_shares_estimated
        where share_of_wallet_source = 'none' and (share_of_wallet is not null or share_of_wallet_missing_reason is null)
    """) == [(0,)]
    assert result.query("""
        select count(*) from intermediate.int_email_engagement_aggregated
        where email_engagement_status != 'delivered' and (unique_open_rate is not null or open_percentile is not null)
    """) == [(0,)]
    assert result.query("""
        select count(*) from intermediate.int_social_scores_computed
        where social_parts_with_data = 0 and (social_score is not null or social_data_coverage != 'none')
    """) == [(0,)]


def test_absent_optional_files_give_null_measures_and_say_so(build_without_optional_files):
    _, result = build_without_optional_files
    assert result.query("""
        select distinct share_of_wallet_source, share_of_wallet_missing_reason
        from intermediate.int_wallet_shares_estimated
    """) == [("none", "no_wallet_surveys_file")]
    assert result.query("""
        select distinct email_engagement_status, message_count, unique_open_rate
        from intermediate.int_email_engagement_aggregated
    """) == [("no_email_events_file", None, None)]
    rows = result.query("""
        select distinct social_score, social_data_coverage, referral_count, social_score_note
        from intermediate.int_social_scores_computed
    """)
    assert len(rows) == 1
    score, coverage, referral_count, note = rows[0]
    assert (score, coverage, referral_count) == (None, "none", None)
    for table in ["community_activity", "email_events", "referrals", "social_profiles"]:
        assert table in note
