"""End-to-end: generate raw data, run `dbt build`, check what the project publishes.

Each build writes to its own temporary DuckDB file and target folder.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from dbt_helpers import PROJECT_DIR, assert_build_ok, generate, rewrite_parquet, run_dbt

from customer_value.generator.config import TABLES as RAW_TABLES

#: Customers of the faulty data set: 3,000 in CI; FAULT_TEST_CUSTOMERS=100000 runs the
#: fault tests at scale (measured: docs/validation.md).
FAULT_TEST_CUSTOMERS = os.environ.get("FAULT_TEST_CUSTOMERS", "3000")


@pytest.fixture(scope="module")
def faulty_build(tmp_path_factory):
    raw = generate(
        tmp_path_factory.mktemp("raw_faults"), "--customers", FAULT_TEST_CUSTOMERS, "--seed", "11", "--faults"
    )
    result = run_dbt(raw, tmp_path_factory.mktemp("build_faults"))
    assert_build_ok(result)
    return raw, result


def raw_row_count(raw: Path, table: str) -> int:
    with duckdb.connect() as con:
        return con.execute(f"select count(*) from read_parquet('{raw / (table + '.parquet')}')").fetchall()[0][0]


def test_clean_data_has_no_rejected_rows(clean_build):
    _, result = clean_build
    assert result.query("select count(*) from staging.stg_raw__rejected_rows") == [(0,)]


def test_every_raw_row_is_staged_or_rejected(faulty_build):
    raw, result = faulty_build
    inventory = {
        row[0]: row[1:]
        for row in result.query(
            "select table_name, raw_row_count, staged_row_count, rejected_row_count from staging.stg_raw__table_inventory"
        )
    }
    for table in RAW_TABLES:
        raw_rows, staged, rejected = inventory[table]
        assert raw_rows == raw_row_count(raw, table), table
        assert raw_rows == staged + rejected, table


def test_rejected_rows_match_injected_faults_kind_by_kind(faulty_build):
    raw, result = faulty_build
    injected = json.loads((raw / "_truth" / "faults.json").read_text())
    expected = Counter(
        {(table, reason): count for table, reasons in injected.items() for reason, count in reasons.items() if count}
    )
    found = Counter(
        {
            (table, reason): count
            for table, reason, count in result.query(
                "select table_name, rejection_reason, count(*) from staging.stg_raw__rejected_rows group by all"
            )
        }
    )
    assert found == expected
    assert sum(expected.values()) > 0
    # Every kind of bad row the contract lists was injected and caught.
    kinds = {reason for _, reason in found}
    assert {
        "missing_id",
        "malformed_timestamp",
        "future_timestamp",
        "duplicate_id",
        "orphan_reference",
        "self_referral",
        "unknown_currency",
        "unknown_type",
        "out_of_range",
        "referral_cycle",
        "refund_rejected",
    } <= kinds


def test_rejected_keys_are_the_injected_ones(faulty_build):
    """Each rejected row names the rule and the column the generator broke."""
    raw, result = faulty_build
    with duckdb.connect() as con:
        injected = set(
            con.execute(
                "select table_name, raw_key, reason, rejected_column"
                f" from read_parquet('{raw / '_truth' / 'faults.parquet'}')"
            ).fetchall()
        )
    found = set(
        result.query(
            "select table_name, raw_key, rejection_reason, rejected_column from staging.stg_raw__rejected_rows"
        )
    )
    assert found == injected
    assert {column for *_, column in found} >= {"amount", "cost", "refunded_transaction_id", "customer_id, network"}


def test_rejected_rows_carry_the_raw_value_and_the_customer(faulty_build):
    """rejected_value is the raw text of rejected_column (for refund_rejected: the refund
    rejected), customer_id the customer the raw row names (a referral's referrer)."""
    _, result = faulty_build
    customer_column = {"referrals": "referrer_customer_id", "email_campaigns": None}
    rows = result.query(
        "select table_name, rejection_reason, rejected_column, rejected_value, customer_id, raw_row::varchar"
        " from staging.stg_raw__rejected_rows"
    )
    refunds_rejected = {
        key: reason
        for key, reason in result.query(
            "select raw_key, rejection_reason from staging.stg_raw__rejected_rows"
            " where table_name = 'transactions' and rejection_reason != 'duplicate_id'"
            " and raw_row->>'transaction_type' = 'refund'"
        )
    }
    checked = Counter()
    for table, reason, column, value, customer, raw_row in rows:
        raw_values = json.loads(raw_row)
        if reason == "refund_rejected":
            assert refunds_rejected.get(value) not in (None, "refund_rejected"), value
        elif ", " in column:
            assert value == "|".join(str(raw_values[c]) for c in column.split(", "))
        else:
            raw_value = raw_values[column]
            if isinstance(raw_value, (int, float)) and not isinstance(raw_value, bool):
                assert float(value) == raw_value, (table, reason, column, value)  # JSON drops trailing zeros
            else:
                assert value == (None if raw_value is None else str(raw_value)), (table, reason, column, value)
        named = customer_column.get(table, "customer_id")
        expected_customer = raw_values[named].strip() if named and raw_values[named] else None
        assert customer == (expected_customer or None), (table, customer, raw_values)
        checked[reason] += 1
    assert checked["refund_rejected"] > 0 and checked["malformed_timestamp"] > 0 and checked["duplicate_id"] > 0


#: The columns that say a customer was named by rejected rows: the one thing about them a
#: quarantine changes on purpose.
REJECTION_MARKS = ("has_rejected_rows", "rejected_row_count", "rejected_row_tables")


def mart_rows(result, relation: str, exclude: tuple[str, ...] = ()) -> list[tuple]:
    """Every row of a mart relation, sorted, without the build time (and `exclude`)."""
    return sorted(
        result.query(f"select * exclude (built_at{''.join(', ' + c for c in exclude)}) from marts.{relation}"), key=repr
    )


def test_quarantined_rows_change_nothing_else(faulty_build, tmp_path):
    """The marts of the faulty data equal the marts of the same files with the rejected
    rows taken out: a bad row is quarantined without moving any other number. (The
    fault generator also adds valid rows, e.g. the customers of a referral cycle, so the
    comparison is against its own clean rows, not against a build without --faults.)"""
    raw, result = faulty_build
    clean = tmp_path / "raw_without_rejected"
    clean.mkdir()
    with duckdb.connect(str(result.database), read_only=True) as con:
        for table in RAW_TABLES:
            # A duplicate row can be identical to the row it duplicates: drop as many
            # copies of each raw row as were rejected, whichever copies they are.
            source = raw / f"{table}.parquet"
            without_rejected = f"""
                with raw_rows as (
                    select *, row_number() over (partition by to_json(raw_row)) as copy_number,
                        to_json(raw_row) as row_json
                    from read_parquet('{source}') as raw_row
                ),
                rejected as (
                    select raw_row as row_json, count(*) as copies
                    from staging.stg_raw__rejected_rows
                    where table_name = '{table}'
                    group by raw_row
                )
                select raw_rows.* exclude (copy_number, row_json)
                from raw_rows left join rejected using (row_json)
                where raw_rows.copy_number > coalesce(rejected.copies, 0)
            """
            con.execute(f"copy ({without_rejected}) to '{clean / (table + '.parquet')}' (format parquet)")
            [(kept,)] = con.execute(f"select count(*) from ({without_rejected})").fetchall()
            [(staged,)] = con.execute(
                f"select staged_row_count from staging.stg_raw__table_inventory where table_name = '{table}'"
            ).fetchall()
            assert kept == staged, table
    rebuilt = run_dbt(clean, tmp_path / "build")
    assert_build_ok(rebuilt)
    assert rebuilt.query("select count(*) from staging.stg_raw__rejected_rows") == [(0,)]
    marks = REJECTION_MARKS
    assert mart_rows(rebuilt, "customer_segments", marks) == mart_rows(result, "customer_segments", marks)
    for relation in ["segment_summary", "clv_model_parameters"]:
        assert mart_rows(rebuilt, relation) == mart_rows(result, relation), relation
    # The faulty build marks the customers its rejected rows name; the clean one nobody.
    assert rebuilt.query("select count(*) from marts.customer_segments where has_rejected_rows") == [(0,)]
    assert result.query("select count(*) from marts.customer_segments where has_rejected_rows") == result.query(
        "select count(distinct rejected.customer_id) from staging.stg_raw__rejected_rows as rejected"
        " inner join marts.customer_segments as segments on rejected.customer_id = segments.customer_id"
    )


def test_mart_has_one_row_per_customer_and_no_clear_text_email(clean_build):
    raw, result = clean_build
    customers = raw_row_count(raw, "customers")
    assert result.query("select count(*), count(distinct customer_id) from marts.customer_segments") == [
        (customers, customers)
    ]
    columns = [
        row[0]
        for row in result.query("select column_name from information_schema.columns where table_schema = 'marts'")
    ]
    assert "email" not in columns
    with duckdb.connect() as con:
        emails = {
            row[0]
            for row in con.execute(
                f"select email from read_parquet('{raw / 'customers.parquet'}') where email is not null limit 50"
            ).fetchall()
        }
    text = " ".join(str(v) for row in result.query("select * from marts.customer_segments") for v in row)
    assert not any(email in text for email in emails)


def test_csv_input_builds_the_same(tmp_path, clean_build):
    _, parquet_result = clean_build
    raw = generate(tmp_path / "raw_csv", "--customers", "3000", "--seed", "7", "--format", "csv")
    result = run_dbt(raw, tmp_path / "build_csv", "--vars", "{raw_format: csv}")
    assert_build_ok(result)
    sql = "select count(*), sum(historical_clv), sum(frequency) from marts.customer_segments"
    assert result.query(sql) == parquet_result.query(sql)


def test_missing_optional_tables_are_empty_and_said_once(tmp_path):
    raw = generate(tmp_path / "raw", "--customers", "500", "--seed", "3")
    for table in ["social_profiles", "wallet_surveys", "referrals"]:
        (raw / f"{table}.parquet").unlink()
    result = run_dbt(raw, tmp_path / "build")
    assert_build_ok(result)
    for table in ["social_profiles", "wallet_surveys", "referrals"]:
        assert result.output.count(f"Optional raw file '{raw / table}.parquet' not found") == 1
    present = dict(result.query("select table_name, is_present from staging.stg_raw__table_inventory"))
    assert present["social_profiles"] is False and present["customers"] is True
    # Without referrals the segments fall back to CLV tiers, and say so; everyone has an action.
    segments = dict(result.query("select value_segment, count(*) from marts.customer_segments group by value_segment"))
    assert set(segments) <= {"high_clv", "low_clv", "prospect"} and segments.get("high_clv", 0) > 0, segments
    assert result.query(
        "select count(*) from marts.customer_segments where recommended_action is null"
        " or (not is_prospect and segment_status != 'clv_tiers_no_referrals_file')"
    ) == [(0,)]


def test_missing_required_file_stops_the_build_naming_it(tmp_path):
    raw = generate(tmp_path / "raw", "--customers", "200", "--seed", "3")
    (raw / "transactions.parquet").unlink()
    result = run_dbt(raw, tmp_path / "build")
    assert result.returncode != 0
    assert f"Required raw file '{raw / 'transactions.parquet'}' was not found" in result.output


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("select * exclude (amount) from t", "has no column 'amount'"),
        ("select * replace (cast(amount as varchar) as amount) from t", "column 'amount' has type VARCHAR"),
    ],
)
def test_broken_columns_stop_the_build_naming_file_and_column(tmp_path, change, message):
    raw = generate(tmp_path / "raw", "--customers", "200", "--seed", "3")
    path = raw / "transactions.parquet"
    rewrite_parquet(path, change)
    result = run_dbt(raw, tmp_path / "build")
    assert result.returncode != 0
    assert f"Raw file '{path}'" in result.output and message in result.output, result.output[-3000:]


def test_purchase_summary_matches_lifetimes(clean_build):
    """The SQL summary (int_customers_rfm_summarised) equals lifetimes' own summary of the
    raw transactions, once refunds are netted against the day of the purchase they reverse."""
    from lifetimes.utils import summary_data_from_transaction_data  # the independent implementation

    raw, result = clean_build
    with duckdb.connect() as con:
        transactions = con.execute(
            f"select transaction_id, customer_id, transacted_at, transaction_type, amount, currency,"
            f" refunded_transaction_id from read_parquet('{raw / 'transactions.parquet'}')"
        ).df()
    rates = pd.read_csv(PROJECT_DIR / "seeds" / "currency_rates.csv")
    usd_per_unit = transactions["currency"].map(rates.set_index("currency")["usd_per_unit"])
    converted = transactions["amount"].astype(float) * usd_per_unit
    # Cents rounded half away from zero, as DuckDB casts to DECIMAL(18, 2).
    transactions["usd"] = np.trunc(converted * 100 + np.sign(converted) * 0.5) / 100
    transactions["day"] = transactions["transacted_at"].dt.floor("D")
    purchase_day = transactions.set_index("transaction_id")["day"]
    is_refund = transactions["transaction_type"] == "refund"
    transactions["purchase_day"] = transactions["day"].where(
        ~is_refund, transactions["refunded_transaction_id"].map(purchase_day).fillna(transactions["day"])
    )
    daily = (
        transactions.assign(is_purchase=~is_refund)
        .groupby(["customer_id", "purchase_day"], as_index=False)
        .agg(net=("usd", "sum"), purchases=("is_purchase", "sum"))
    )
    daily = daily[(daily["purchases"] > 0) & (daily["net"] > 0)]
    as_of = result.query("select as_of_date from intermediate.int_analysis_settings")[0][0]
    expected = summary_data_from_transaction_data(
        daily,
        "customer_id",
        "purchase_day",
        monetary_value_col="net",
        observation_period_end=pd.Timestamp(as_of),
        freq="D",
    ).sort_index()

    ours = pd.DataFrame(
        result.query(
            "select customer_id, frequency, recency_weeks, t_weeks, monetary_value"
            " from intermediate.int_customers_rfm_summarised order by customer_id"
        ),
        columns=["customer_id", "frequency", "recency_weeks", "t_weeks", "monetary_value"],
    ).set_index("customer_id")

    assert list(ours.index) == list(expected.index)
    np.testing.assert_array_equal(ours["frequency"].to_numpy(), expected["frequency"].to_numpy())
    np.testing.assert_allclose(ours["recency_weeks"].to_numpy(float), expected["recency"].to_numpy() / 7, rtol=1e-12)
    np.testing.assert_allclose(ours["t_weeks"].to_numpy(float), expected["T"].to_numpy() / 7, rtol=1e-12)
    # lifetimes reports 0 where we report NULL (no repeat day: no repeat spend to average).
    ours_monetary = ours["monetary_value"].astype(float).fillna(0).to_numpy()
    np.testing.assert_allclose(ours_monetary, expected["monetary_value"].to_numpy(), rtol=1e-9, atol=1e-9)


def test_crv_recovers_the_simulated_referral_behaviour(clean_build):
    """The generator knows who would have joined anyway and each customer's referral rate."""
    raw, result = clean_build
    truth = json.loads((raw / "_truth" / "parameters.json").read_text())["referrals"]

    # Unanswered referees get the share among answered ones (shrunk a little toward the prior).
    [(answered, estimate)] = result.query(
        "select count(*) filter (where would_have_joined_anyway is not null),"
        " any_value(joined_anyway_probability) filter (where would_have_joined_anyway is null)"
        " from intermediate.int_referrals_valued"
    )
    share = truth["would_have_joined_share"]
    assert answered > 100
    assert abs(estimate - share) < 3 * np.sqrt(share * (1 - share) / answered) + 20 / (answered + 20) * 0.05

    # Expected future referrals follow the true referral rates of the customers still
    # alive (domain rule: only a live customer refers; the generator lets everyone keep
    # referring, so the truth is cut at each buyer's simulated drop-out); influencers
    # far above the rest. Measured (seed 7): 185.9 expected against 197.1 true for buyers.
    with duckdb.connect(str(result.database), read_only=True) as con:
        rows = con.execute(
            f"select latent.referral_rate, latent.is_influencer, segments.expected_future_referrals,"
            f" segments.is_prospect,"
            f" latent.dropout_at is null or latent.dropout_at > segments.as_of_date as is_truly_alive"
            f" from marts.customer_segments as segments"
            f" inner join read_parquet('{raw / '_truth' / 'customer_latent.parquet'}') as latent"
            f" on segments.customer_id = latent.customer_id"
        ).fetchall()
    true_rate, is_influencer, expected, is_prospect, is_alive = (np.array(column, dtype=float) for column in zip(*rows))
    true_expected = true_rate * truth["conversion_probability"] * 365.25 / 7  # converted, next 12 months
    buyers = is_prospect == 0
    assert abs(expected[buyers].sum() / (true_expected * is_alive)[buyers].sum() - 1) < 0.15
    quintile_means = [expected[part].mean() for part in np.array_split(np.argsort(true_expected), 5)]
    assert np.all(np.diff(quintile_means) > 0), quintile_means
    influencer_mean = expected[is_influencer == 1].mean()
    regular_mean = expected[is_influencer == 0].mean()
    assert influencer_mean > 5 * regular_mean


def test_clv_fit_in_the_build_recovers_the_generated_truth(tmp_path):
    """Generator -> staging -> summary SQL -> fit, on 100,000 customers without refunds.

    The raw parameters are not compared one by one: the generator simulates in
    continuous time, and the standard summary counts days (same-day purchases as one,
    about 1 % of repeats at seed 3; recency and T in whole days). On these customers
    that moves alpha by ~3.5 standard errors (9.46 against 9.11 for a fit on the exact
    continuous-time repeats and times, truth 9). The quantities the models exist for
    are checked instead: the mean purchase rate r / alpha, the mean drop-out
    probability a / (a + b) and the mean spend per purchase day p v / (q - 1). A unit error (days for weeks, T to the wrong
    date, refunds or currencies mishandled) moves them far more than the tolerances.
    """
    raw = generate(tmp_path / "raw", "--customers", "100000", "--seed", "3", "--refund-rate", "0")
    result = run_dbt(raw, tmp_path / "build", "--select", "+int_clv_models_fitted", "--indirect-selection", "cautious")
    assert_build_ok(result)
    fitted = dict(
        result.query(
            "select parameter_name, parameter_value from intermediate.int_clv_models_fitted"
            " where model_name in ('bg_nbd', 'gamma_gamma')"
        )
    )
    truth = json.loads((raw / "_truth" / "parameters.json").read_text())
    bg, gg = truth["bgnbd"], truth["gamma_gamma"]

    def relative_error(ours: float, true: float) -> float:
        return abs(ours / true - 1)

    assert relative_error(fitted["r"] / fitted["alpha"], bg["r"] / bg["alpha"]) < 0.05
    assert relative_error(fitted["a"] / (fitted["a"] + fitted["b"]), bg["a"] / (bg["a"] + bg["b"])) < 0.05
    mean_spend = fitted["p"] * fitted["v"] / (fitted["q"] - 1)
    assert relative_error(mean_spend, gg["p"] * gg["v"] / (gg["q"] - 1)) < 0.03
