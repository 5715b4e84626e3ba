"""Tests of the synthetic raw-data generator (customer_value.generator).

The generator is run through its CLI into temporary folders; the files are read back
with DuckDB and checked against the raw-data contract, against an independent
re-implementation of the contract's row rules (for the injected faults) and against the
BG/NBD and Gamma-Gamma truth written beside the data.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pytest
import yaml
from scipy.special import hyp2f1

PROJECT_DIR = Path(__file__).resolve().parents[2]
SOURCES_YML = PROJECT_DIR / "models" / "staging" / "_raw__sources.yml"
TABLES = [
    "customers",
    "transactions",
    "email_campaigns",
    "email_events",
    "referrals",
    "social_profiles",
    "community_activity",
    "wallet_surveys",
]
ENUMS = {
    "acquisition_channel": [
        "referral",
        "paid_search",
        "paid_social",
        "organic",
        "email",
        "affiliate",
        "offline",
        "unknown",
    ],
    "transaction_type": ["purchase", "refund"],
    "campaign_type": ["promotional", "newsletter", "referral_invite", "transactional"],
    "event_type": ["sent", "delivered", "open", "click", "forward", "bounce", "unsubscribe", "complaint"],
    "channel": ["referral_code", "share_link", "email_forward", "in_person"],
    "network": ["twitter", "instagram", "facebook", "linkedin", "tiktok", "youtube", "blog", "forum", "other"],
    "activity_type": ["review", "rating", "question", "answer", "forum_post", "ugc"],
}
SMALL = ("--customers", "2000", "--seed", "7", "--chunk-size", "800")  # 3 chunks


def run_cli(out: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "customer_value.generator", "--out", str(out), "--quiet", *args],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=check,
    )


@pytest.fixture(scope="module")
def gen_cli(tmp_path_factory) -> Callable[..., Path]:
    """Run the generator once per distinct argument list; returns the output folder."""
    cache: dict[tuple[str, ...], Path] = {}

    def run(*args: str) -> Path:
        if args not in cache:
            out = tmp_path_factory.mktemp("gen")
            run_cli(out, *args)
            cache[args] = out
        return cache[args]

    return run


@pytest.fixture(scope="module")
def gen_clean(gen_cli) -> Path:
    return gen_cli(*SMALL)


@pytest.fixture(scope="module")
def gen_faults(gen_cli) -> Path:
    return gen_cli(*SMALL, "--faults")


@pytest.fixture(scope="module")
def gen_large(gen_cli) -> Path:
    return gen_cli("--customers", "20000", "--seed", "11")


def connect(folder: Path) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with a view per raw table (with its row number) and the truth."""
    con = duckdb.connect()
    for t in TABLES:
        con.execute(
            f"create view {t} as select * from read_parquet('{folder / (t + '.parquet')}', file_row_number = true)"
        )
    latent = folder / "_truth" / "customer_latent.parquet"
    con.execute(f"create view latent as select * from read_parquet('{latent}')")
    return con


def params(folder: Path) -> dict:
    return json.loads((folder / "_truth" / "parameters.json").read_text())


# --------------------------------------------------------------------------------------
# Determinism, CLI
# --------------------------------------------------------------------------------------
def data_files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_gives_byte_identical_files(gen_faults, tmp_path):
    run_cli(tmp_path, *SMALL, "--faults")
    first, second = data_files(gen_faults), data_files(tmp_path)
    assert sorted(first) == sorted(second)
    assert len(first) == len(TABLES) + 4
    for name in first:
        assert first[name] == second[name], name


def test_different_seed_gives_different_data(gen_clean, tmp_path):
    run_cli(tmp_path, "--customers", "2000", "--seed", "8", "--chunk-size", "800")
    first, second = data_files(gen_clean), data_files(tmp_path)
    for t in TABLES:
        assert first[f"{t}.parquet"] != second[f"{t}.parquet"], t


@pytest.mark.parametrize(
    "args, message",
    [
        (["--customers", "0"], "--customers"),
        (["--customers", "many"], "not an integer"),
        (["--refund-rate", "1.5"], "--refund-rate"),
        (["--end-date", "2026-13-01"], "--end-date"),
        (["--format", "xml"], "--format"),
        (["--seed", "-1"], "--seed"),
    ],
)
def test_cli_rejects_bad_arguments(tmp_path, args, message):
    result = run_cli(tmp_path / "out", *args, check=False)
    assert result.returncode == 2
    assert message in result.stderr
    assert not (tmp_path / "out" / "customers.parquet").exists()


def test_scales_to_20k_customers_quickly(tmp_path):
    started = time.perf_counter()
    run_cli(tmp_path, "--customers", "20000", "--seed", "3", "--chunk-size", "6000", "--faults")
    assert time.perf_counter() - started < 30
    p = params(tmp_path)
    assert p["n_customers"] == 20000 and p["raw_rows"]["transactions"] > 40000
    con = connect(tmp_path)
    # Ids stay unique across the 4 chunks and their injected rows.
    for table, key in [("transactions", "transaction_id"), ("email_events", "event_id")]:
        dups = con.execute(
            f"select count(*) - count(distinct {key}) from {table} where nullif(trim({key}), '') is not null"
        ).fetchone()[0]
        assert dups == json.loads((tmp_path / "_truth" / "faults.json").read_text())[table]["duplicate_id"]


# --------------------------------------------------------------------------------------
# Contract: columns and types
# --------------------------------------------------------------------------------------
DUCKDB_TYPES = {
    "VARCHAR": "VARCHAR",
    "TIMESTAMP": "TIMESTAMP",
    "DECIMAL": "DECIMAL(18,2)",
    "INTEGER": "INTEGER",
    "BOOLEAN": "BOOLEAN",
}


def contract_columns() -> dict[str, list[tuple[str, str]]]:
    """Columns and DuckDB types per table as the dbt project declares the raw contract
    (models/staging/_raw__sources.yml), independent of the generator's own schema."""
    sources = yaml.safe_load(SOURCES_YML.read_text())["sources"]
    [raw] = [source for source in sources if source["name"] == "raw"]
    return {
        table["name"]: [(column["name"], DUCKDB_TYPES[column["data_type"].upper()]) for column in table["columns"]]
        for table in raw["tables"]
    }


@pytest.mark.parametrize("folder_fixture", ["gen_clean", "gen_faults"])
def test_every_table_has_exactly_the_contract_columns_and_types(request, folder_fixture):
    folder = request.getfixturevalue(folder_fixture)
    expected = contract_columns()
    assert sorted(expected) == sorted(TABLES)
    with duckdb.connect() as con:
        for table, columns in expected.items():
            path = folder / f"{table}.parquet"
            described = con.execute(f"describe select * from read_parquet('{path}')").fetchall()
            found = [(row[0], row[1]) for row in described]
            if folder_fixture == "gen_faults":  # timestamps are ISO text so malformed ones can be stored
                columns = [(c, "VARCHAR" if t == "TIMESTAMP" else t) for c, t in columns]
            assert found == columns, table


def test_csv_output_parses_with_duckdb_and_equals_parquet(gen_cli, gen_clean):
    csv_dir = gen_cli(*SMALL, "--format", "csv")
    expected = contract_columns()
    with duckdb.connect() as con:
        for table, columns in expected.items():
            path = csv_dir / f"{table}.csv"
            header = path.read_text(encoding="utf-8").splitlines()[0]
            assert header.replace('"', "").split(",") == [c for c, _ in columns]
            auto = con.execute(f"select count(*) from read_csv('{path}')").fetchone()[0]
            types = ", ".join(f"'{c}': '{t}'" for c, t in columns)
            typed = f"read_csv('{path}', header = true, columns = {{{types}}})"
            parquet = f"read_parquet('{gen_clean / (table + '.parquet')}')"
            n = con.execute(f"select count(*) from {parquet}").fetchone()[0]
            assert auto == n > 0, table
            diff = con.execute(
                f"select count(*) from ((from {typed} except all from {parquet}) "
                f"union all (from {parquet} except all from {typed}))"
            ).fetchone()[0]
            assert diff == 0, table
        sample = (csv_dir / "transactions.csv").read_text().splitlines()[1]
        assert re.search(r'"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"', sample)
        assert "true" in (csv_dir / "social_profiles.csv").read_text()


# --------------------------------------------------------------------------------------
# Clean data: integrity and plausibility
# --------------------------------------------------------------------------------------
def scalar(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchone()[0]


def test_clean_data_keys_are_unique_and_references_exist(gen_clean):
    con = connect(gen_clean)
    for table, key in [
        ("customers", "customer_id"),
        ("transactions", "transaction_id"),
        ("email_campaigns", "campaign_id"),
        ("email_events", "event_id"),
        ("referrals", "referral_id"),
        ("social_profiles", "customer_id || network"),
        ("community_activity", "activity_id"),
        ("wallet_surveys", "response_id"),
    ]:
        assert scalar(con, f"select count(*) - count(distinct {key}) from {table}") == 0, table
        assert scalar(con, f"select count(*) filter ({key} is null) from {table}") == 0, table
    for table, col in [
        ("transactions", "customer_id"),
        ("email_events", "customer_id"),
        ("referrals", "referrer_customer_id"),
        ("referrals", "referee_customer_id"),
        ("social_profiles", "customer_id"),
        ("community_activity", "customer_id"),
        ("wallet_surveys", "customer_id"),
    ]:
        orphans = f"select count(*) from {table} where {col} not in (select customer_id from customers)"
        assert scalar(con, orphans) == 0, (table, col)
    assert (
        scalar(
            con, "select count(*) from email_events where campaign_id not in (select campaign_id from email_campaigns)"
        )
        == 0
    )
    # A refund reverses an earlier purchase of the same customer, same currency, at most its amount.
    bad_refunds = scalar(
        con,
        """
        select count(*) from transactions r left join transactions p on p.transaction_id = r.refunded_transaction_id
        where r.transaction_type = 'refund' and (p.transaction_type is distinct from 'purchase'
            or p.customer_id != r.customer_id or p.currency != r.currency or -r.amount > p.amount
            or r.transacted_at < p.transacted_at + interval 1 day or r.amount >= 0 or r.cost > 0)""",
    )
    assert bad_refunds == 0
    assert (
        scalar(
            con,
            "select count(*) from transactions where transaction_type = 'purchase' "
            "and (amount <= 0 or cost < 0 or refunded_transaction_id is not null)",
        )
        == 0
    )


def test_clean_data_stays_in_the_window_and_within_enums(gen_clean):
    con = connect(gen_clean)
    p = params(gen_clean)
    start, end = p["window_start"], p["window_end_exclusive"]
    for table, col in [
        ("customers", "created_at"),
        ("transactions", "transacted_at"),
        ("email_campaigns", "sent_at"),
        ("email_events", "occurred_at"),
        ("referrals", "referred_at"),
        ("referrals", "converted_at"),
        ("social_profiles", "observed_at"),
        ("community_activity", "occurred_at"),
        ("wallet_surveys", "responded_at"),
    ]:
        lo, hi = con.execute(f"select min({col}), max({col}) from {table}").fetchone()
        assert str(lo) >= start and str(hi) < end, (table, col)
    for table, col in [
        ("customers", "acquisition_channel"),
        ("transactions", "transaction_type"),
        ("email_campaigns", "campaign_type"),
        ("email_events", "event_type"),
        ("referrals", "channel"),
        ("social_profiles", "network"),
        ("community_activity", "activity_type"),
    ]:
        values = {r[0] for r in con.execute(f"select distinct {col} from {table}").fetchall()}
        assert values <= set(ENUMS[col]), (table, col)
    currencies = set(p["currencies"])
    for table in ["transactions", "referrals", "wallet_surveys"]:
        sql = f"select distinct currency from {table} where currency is not null"
        assert {r[0] for r in con.execute(sql).fetchall()} <= currencies
    # Events, activities and surveys never precede the customer; ratings only on reviews/ratings.
    assert (
        scalar(
            con,
            "select count(*) from transactions t join customers c using (customer_id) "
            "where t.transacted_at < c.created_at",
        )
        == 0
    )
    assert (
        scalar(
            con,
            "select count(*) from community_activity where (rating is not null) != "
            "(activity_type in ('review', 'rating')) or rating not between 1 and 5",
        )
        == 0
    )
    assert (
        scalar(
            con,
            "select count(*) from email_events where (forward_recipients is not null) != "
            "(event_type = 'forward') or forward_recipients not between 1 and 10",
        )
        == 0
    )
    assert (
        scalar(
            con,
            "select count(*) from wallet_surveys where brand_rank > brands_used or likelihood_to_recommend "
            "not between 0 and 10 or (category_spend is null) != (currency is null)",
        )
        == 0
    )


def test_email_funnel_is_consistent(gen_clean):
    con = connect(gen_clean)
    per_message = """
        select customer_id, campaign_id,
            count(*) filter (event_type = 'sent') sent, count(*) filter (event_type = 'delivered') delivered,
            count(*) filter (event_type = 'bounce') bounced, count(*) filter (event_type = 'open') opens,
            count(*) filter (event_type = 'click') clicks
        from email_events group by all"""
    bad = scalar(
        con,
        f"""select count(*) from ({per_message}) where sent != 1 or delivered + bounced != 1
        or (bounced = 1 and opens + clicks > 0) or (clicks > 0 and opens = 0) or opens > 3""",
    )
    assert bad == 0
    repeat_opens = scalar(con, f"select count(*) from ({per_message}) where opens > 1")
    assert repeat_opens > 0
    open_rate = scalar(con, f"select avg((opens > 0)::int) from ({per_message}) where delivered = 1")
    assert 0.2 <= open_rate <= 0.4
    per_customer = scalar(
        con, "select avg(n) from (select count(distinct campaign_id) n from email_events group by customer_id)"
    )
    assert 5 <= per_customer <= 16


def test_referrals_form_a_time_ordered_forest(gen_clean):
    con = connect(gen_clean)
    converted = "select * from referrals where referee_customer_id is not null"
    # Referees joined exactly when their referral converted, after their referrer.
    assert (
        scalar(
            con,
            f"""select count(*) from ({converted}) r
        join customers e on e.customer_id = r.referee_customer_id
        join customers o on o.customer_id = r.referrer_customer_id
        where e.created_at != r.converted_at or o.created_at >= e.created_at or r.referred_at > r.converted_at
           or r.referred_at < o.created_at""",
        )
        == 0
    )
    # The 'referral' channel is exactly the set of converted referees, each referred once.
    assert scalar(con, f"select count(*) - count(distinct referee_customer_id) from ({converted})") == 0
    referral_channel = {
        r[0] for r in con.execute("select customer_id from customers where acquisition_channel = 'referral'").fetchall()
    }
    referees = {r[0] for r in con.execute(f"select referee_customer_id from ({converted})").fetchall()}
    assert referral_channel == referees
    assert 0.10 <= len(referees) / 2000 <= 0.20
    # Non-converted referrals have no conversion data; the survey answer is NULL for about 30 %.
    assert (
        scalar(
            con,
            "select count(*) from referrals where referee_customer_id is null "
            "and (converted_at is not null or would_have_joined_anyway is not null)",
        )
        == 0
    )
    asked, anyway = con.execute(
        f"select avg((would_have_joined_anyway is not null)::int), "
        f"avg(would_have_joined_anyway::int) from ({converted})"
    ).fetchone()
    assert 0.6 <= asked <= 0.8 and 0.3 <= anyway <= 0.6
    # Some prospects (never buy) brought in paying customers.
    assert (
        scalar(
            con,
            f"""select count(*) from ({converted}) r
        join latent o on o.customer_id = r.referrer_customer_id join latent e on e.customer_id = r.referee_customer_id
        where not o.is_buyer and e.is_buyer""",
        )
        > 0
    )


def test_social_and_community_are_concentrated(gen_large):
    con = connect(gen_large)
    share = scalar(con, "select count(distinct customer_id) / 20000 from social_profiles")
    assert 0.25 <= share <= 0.35
    ratio = scalar(
        con,
        """select median(followers) filter (l.is_influencer)
                                  / median(followers) filter (not l.is_influencer)
                           from social_profiles s join latent l using (customer_id)""",
    )
    assert ratio > 50
    active = scalar(con, "select count(distinct customer_id) / 20000 from community_activity")
    assert 0.07 <= active <= 0.15
    top_share = scalar(
        con,
        """select sum(n) filter (rk <= 0.1 * total) / sum(n) from (
        select count(*) n, row_number() over (order by count(*) desc) rk, count(*) over () total
        from community_activity group by customer_id)""",
    )
    assert top_share > 0.4  # the top 10 % of active members write most of it


def test_wallet_surveys_follow_the_true_share(gen_large):
    con = connect(gen_large)
    _n, with_spend, with_rank, repeated = con.execute("""select count(*), avg((category_spend is not null)::int),
        avg((brand_rank is not null)::int), count(*) - count(distinct customer_id) from wallet_surveys""").fetchone()
    assert 0.65 <= with_spend <= 0.75 and 0.35 <= with_rank <= 0.45 and repeated > 0
    buyers = scalar(con, "select count(*) from latent where is_buyer")
    assert 0.07 <= scalar(con, "select count(distinct customer_id) from wallet_surveys") / buyers <= 0.12
    corr_rank, corr_ltr = con.execute("""select corr(brand_rank, true_share_of_wallet),
        corr(likelihood_to_recommend, true_share_of_wallet)
        from wallet_surveys join latent using (customer_id)""").fetchone()
    assert corr_rank < -0.5 and corr_ltr > 0.5
    # Spend answers: our net spend in the window / reported category spend ~ true share (10 % noise).
    rows = con.execute("""
        select s.category_spend::double, l.true_share_of_wallet,
            (select sum(t.amount)::double from transactions t where t.customer_id = s.customer_id
             and t.transacted_at <= s.responded_at
             and t.transacted_at > s.responded_at - to_seconds(round(s.period_months * 365.25 / 12 * 86400))) ours
        from wallet_surveys s join latent l using (customer_id) where s.category_spend is not null""").fetchall()
    ratios = np.array([ours / spend / sow for spend, sow, ours in rows if ours and ours > 0])
    assert ratios.size > 100
    assert abs(np.median(np.log(ratios))) < 0.03 and np.std(np.log(ratios)) < 0.15


# --------------------------------------------------------------------------------------
# BG/NBD and Gamma-Gamma truth
# --------------------------------------------------------------------------------------
def bgnbd_frame(folder: Path) -> dict[str, np.ndarray]:
    """Per buyer: purchase events from the files, T, and the true latent values."""
    con = connect(folder)
    end = params(folder)["window_end_exclusive"]
    rows = con.execute(f"""
        with p as (select customer_id, min(transacted_at) first_at, count(distinct transacted_at) - 1 x
                   from transactions where transaction_type = 'purchase' group by 1)
        select p.x, epoch(timestamp '{end}' - p.first_at) / 604800.0 t, l.lambda_per_week, l.p_dropout,
               l.n_repeat_purchases, p.first_at = l.first_purchase_at
        from p join latent l using (customer_id) where l.is_buyer""").fetchall()
    x, t, lam, pdrop, truth_x, same_first = (np.array(c) for c in zip(*rows))
    assert same_first.all()
    assert len(rows) == scalar(con, "select count(*) from latent where is_buyer")
    return {"x": x.astype(float), "t": t, "lam": lam, "p": pdrop, "truth_x": truth_x}


def test_latent_draws_match_the_true_parameters(gen_large):
    p = params(gen_large)
    bg, gg = p["bgnbd"], p["gamma_gamma"]
    with duckdb.connect() as con:
        lam, pdrop, nu = (
            np.array(c)
            for c in zip(
                *con.execute(
                    f"select lambda_per_week, p_dropout, nu from read_parquet('{gen_large}/_truth/customer_latent.parquet') "
                    "where is_buyer"
                ).fetchall()
            )
        )
    n = lam.size
    assert abs(lam.mean() - bg["r"] / bg["alpha"]) < 4 * np.sqrt(bg["r"]) / bg["alpha"] / np.sqrt(n)
    a, b = bg["a"], bg["b"]
    sd_p = np.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    assert abs(pdrop.mean() - a / (a + b)) < 4 * sd_p / np.sqrt(n)
    assert abs(nu.mean() - gg["q"] / gg["v"]) < 4 * np.sqrt(gg["q"]) / gg["v"] / np.sqrt(n)
    assert 0.75 <= n / p["n_customers"] <= 0.82  # about 20 % prospects


def test_repeat_purchases_match_bgnbd_expectation(gen_large):
    f = bgnbd_frame(gen_large)
    x, t, lam, pdrop = f["x"], f["t"], f["lam"], f["p"]
    # The files show the simulated events (split days share one timestamp).
    assert np.mean(x == f["truth_x"]) > 0.999
    # Given each buyer's lambda, p and T: E[X] = (1 - exp(-lambda p T)) / p (Fader et al. 2005, eq. 8 ff.).
    diff = x - (1.0 - np.exp(-lam * pdrop * t)) / pdrop
    z = diff.mean() / (diff.std(ddof=1) / np.sqrt(diff.size))
    assert abs(z) < 4, z
    # Integrated over the population: E[X(T)] from the BG/NBD parameters alone.
    bg = params(gen_large)["bgnbd"]
    r, alpha, a, b = bg["r"], bg["alpha"], bg["a"], bg["b"]
    expected = (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))
    z = (x.mean() - expected.mean()) / (x.std(ddof=1) / np.sqrt(x.size))
    assert abs(z) < 4, z


def test_dropout_truth_is_consistent_with_purchases(gen_large):
    con = connect(gen_large)
    bad = scalar(
        con,
        """
        with last as (select customer_id, max(transacted_at) last_at, count(distinct transacted_at) n
                      from transactions where transaction_type = 'purchase' group by 1)
        select count(*) from latent l left join last using (customer_id)
        where (l.is_buyer and l.dropout_at is not null and (l.dropout_at != last.last_at or n < 2))
           or (not l.is_buyer and (last.n is not null or l.dropout_at is not null))""",
    )
    assert bad == 0
    assert 0.2 < scalar(con, "select avg((dropout_at is not null)::int) from latent where is_buyer") < 0.6


def test_purchase_day_values_follow_gamma_gamma(gen_large):
    con = connect(gen_large)
    p = params(gen_large)
    rates = ", ".join(f"('{c}', {r})" for c, r in p["currencies"].items())
    rows = con.execute(f"""
        with rates(currency, usd) as (values {rates}),
        days as (select customer_id, transacted_at, any_value(currency) currency, sum(amount)::double total,
                        count(*) n
                 from transactions where transaction_type = 'purchase' group by 1, 2)
        select days.total * rates.usd, l.nu, days.n
        from days join rates using (currency) join latent l using (customer_id)""").fetchall()
    usd, nu, n_rows = (np.array(c) for c in zip(*rows))
    shape = p["gamma_gamma"]["p"]
    ratio = usd * nu / shape  # z * nu / p ~ Gamma(p, 1) / p: mean 1, variance 1 / p
    assert abs(ratio.mean() - 1) < 4 / np.sqrt(shape * ratio.size)
    assert abs(ratio.var() - 1 / shape) < 0.02
    assert 0.03 <= np.mean(n_rows == 2) <= 0.07 and n_rows.max() == 2  # ~5 % of days split in two


def test_refunds_follow_the_refund_rate(gen_large):
    con = connect(gen_large)
    rate = scalar(
        con,
        "select count(*) filter (transaction_type = 'refund') / count(*) filter "
        "(transaction_type = 'purchase') from transactions",
    )
    assert 0.03 <= rate <= 0.05
    assert 0.08 <= scalar(con, "select avg((cost is null)::int) from transactions") <= 0.12


# --------------------------------------------------------------------------------------
# Faults: an independent recount of every contract rule
# --------------------------------------------------------------------------------------
def blank(col: str) -> str:
    return f"(nullif(trim({col}::varchar), '') is null)"


def quoted(values: list[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


# The contract's rules per table, written independently of the generator: id columns
# (primary key and NOT NULL references), other NOT NULL columns, timestamps, enum
# columns, currency, numeric ranges, and customer / other references.
RULES: dict[str, dict] = {
    "customers": {
        "key": ["customer_id"],
        "ids": ["customer_id"],
        "required": ["created_at"],
        "ts": ["created_at"],
        "enums": ["acquisition_channel"],
    },
    "email_campaigns": {"key": ["campaign_id"], "ids": ["campaign_id"], "ts": ["sent_at"], "enums": ["campaign_type"]},
    "transactions": {
        "key": ["transaction_id"],
        "ids": ["transaction_id", "customer_id"],
        "required": ["transacted_at", "transaction_type", "amount", "currency"],
        "ts": ["transacted_at"],
        "enums": ["transaction_type"],
        "currency": True,
        "customers": ["customer_id"],
        "range": "(transaction_type = 'purchase' and (amount <= 0 or cost < 0)) "
        "or (transaction_type = 'refund' and (amount >= 0 or cost > 0))",
        "refs": "refunded_transaction_id is not null "
        "and refunded_transaction_id not in (select transaction_id from ok_purchases)",
    },
    "email_events": {
        "key": ["event_id"],
        "ids": ["event_id", "customer_id"],
        "required": ["event_type", "occurred_at"],
        "ts": ["occurred_at"],
        "enums": ["event_type"],
        "customers": ["customer_id"],
        "range": "forward_recipients < 0",
        "refs": "campaign_id is not null and campaign_id not in (select campaign_id from ok_campaigns)",
    },
    "referrals": {
        "key": ["referral_id"],
        "ids": ["referral_id", "referrer_customer_id"],
        "required": ["referred_at"],
        "ts": ["referred_at", "converted_at"],
        "enums": ["channel"],
        "currency": True,
        "customers": ["referrer_customer_id", "referee_customer_id"],
        "range": "reward_cost < 0",
    },
    "social_profiles": {
        "key": ["customer_id", "network"],
        "ids": ["customer_id"],
        "required": ["network", "observed_at"],
        "ts": ["observed_at"],
        "enums": ["network"],
        "customers": ["customer_id"],
        "range": "followers < 0 or following < 0 or posts_90d < 0 or brand_mentions_90d < 0",
        "latest_first": "try_cast(observed_at as timestamp) desc,",
    },
    "community_activity": {
        "key": ["activity_id"],
        "ids": ["activity_id", "customer_id"],
        "required": ["activity_type", "occurred_at"],
        "ts": ["occurred_at"],
        "enums": ["activity_type"],
        "customers": ["customer_id"],
        "range": "helpful_votes < 0 or rating not between 1 and 5",
    },
    "wallet_surveys": {
        "key": ["response_id"],
        "ids": ["response_id", "customer_id"],
        "required": ["responded_at"],
        "ts": ["responded_at"],
        "currency": True,
        "customers": ["customer_id"],
        "range": "period_months <= 0 or category_spend < 0 or brands_used < 1 or brand_rank < 1 "
        "or brand_rank > brands_used or likelihood_to_recommend not between 0 and 10",
    },
}
CYCLE = """referee_customer_id != referrer_customer_id and exists (select 1 from referrals o
    where o.referrer_customer_id = r.referee_customer_id and o.referee_customer_id = r.referrer_customer_id)"""


def rule_checks(table: str, end: str, currencies: list[str]) -> list[tuple[str, str]]:
    """(reason, SQL condition on a row of `table` aliased r) for every rule of the table."""
    rule = RULES[table]
    key = " || '|' || ".join(rule["key"])
    checks = [
        ("missing_id", " or ".join(blank(c) for c in rule["ids"])),
        ("missing_value", " or ".join(blank(c) for c in rule.get("required", [])) or "false"),
        (
            "malformed_timestamp",
            " or ".join(f"({c} is not null and try_cast({c} as timestamp) is null)" for c in rule["ts"]),
        ),
        ("future_timestamp", " or ".join(f"try_cast({c} as timestamp) >= timestamp '{end}'" for c in rule["ts"])),
        ("unknown_type", " or ".join(f"{c} not in ({quoted(ENUMS[c])})" for c in rule.get("enums", [])) or "false"),
        ("unknown_currency", f"currency not in ({quoted(currencies)})" if rule.get("currency") else "false"),
        ("out_of_range", rule.get("range", "false")),
        (
            "orphan_reference",
            " or ".join(
                [
                    f"(not {blank(c)} and {c} not in (select customer_id from ok_customers))"
                    for c in rule.get("customers", [])
                ]
                + [rule.get("refs", "false")]
            ),
        ),
        (
            "duplicate_id",
            (
                f"not ({' or '.join(blank(c) for c in rule['key'])}) and row_number() over "
                f"(partition by {key} order by {rule.get('latest_first', '')} file_row_number) > 1"
            ),
        ),
    ]
    if table == "referrals":
        checks += [("self_referral", "referrer_customer_id = referee_customer_id"), ("referral_cycle", CYCLE)]
    return checks


def recount(folder: Path) -> dict[str, list[tuple[str | None, list[str]]]]:
    """Every rule each raw row breaks: {table: [(raw key, [reasons])]} in file order."""
    p = params(folder)
    con = connect(folder)
    for name, col in [
        ("ok_customers", "customer_id"),
        ("ok_campaigns", "campaign_id"),
        ("ok_purchases", "transaction_id"),
    ]:
        con.execute(f"create temp table {name} ({col} varchar)")

    def judge(table: str) -> list[tuple[int, str | None, list[str]]]:
        checks = rule_checks(table, p["window_end_exclusive"], list(p["currencies"]))
        reasons = ", ".join(f"case when coalesce({cond}, false) then '{name}' end" for name, cond in checks)
        keys = RULES[table]["key"]
        return con.execute(f"""
            select file_row_number, case when {" or ".join(blank(c) for c in keys)} then null
                   else {" || '|' || ".join(keys)} end,
                   list_distinct(list_filter([{reasons}], lambda x: x is not null))
            from {table} r order by file_row_number""").fetchall()

    # Parents first: references must point at valid customers, campaigns and purchases.
    parents = {
        "customers": ("ok_customers", "customer_id", "true"),
        "email_campaigns": ("ok_campaigns", "campaign_id", "true"),
        "transactions": ("ok_purchases", "transaction_id", "transaction_type = 'purchase'"),
    }
    out: dict[str, list] = {}
    for table in RULES:
        rows = judge(table)
        if table in parents:
            name, col, where = parents[table]
            ok = ", ".join(str(rn) for rn, _, why in rows if not why) or "null"
            con.execute(f"insert into {name} select {col} from {table} where {where} and file_row_number in ({ok})")
        out[table] = [(key, why) for _, key, why in rows]
    # A rejected row reversing a purchase (not a duplicate: its first copy stands) quarantines
    # that purchase: refund_rejected. Purchases never carry a refunded id, so they are judged
    # right above; refunds once more now, against the purchases kept.
    reversing = {
        rn: (kind, refunded)
        for rn, kind, refunded in con.execute(
            "select file_row_number, transaction_type, refunded_transaction_id from transactions"
        ).fetchall()
    }
    judged = judge("transactions")
    named = {
        reversing[rn][1]
        for rn, _, why in judged
        if why and why != ["duplicate_id"] and reversing[rn][1] and reversing[rn][0] != "purchase"
    }
    quarantined = [(rn, key) for rn, key, why in judged if not why and reversing[rn][0] == "purchase" and key in named]
    con.execute("delete from ok_purchases where transaction_id in (select unnest(?))", [[k for _, k in quarantined]])
    refund_rejected = {rn for rn, _ in quarantined}
    own_rule = {rn: why for rn, _, why in judged}  # a rejected row keeps its own reason
    out["transactions"] = [
        (key, own_rule[rn] or why + (["refund_rejected"] if rn in refund_rejected else []))
        for rn, key, why in judge("transactions")
    ]
    return out


def test_clean_data_breaks_no_rule(gen_clean):
    for table, rows in recount(gen_clean).items():
        broken = [(key, why) for key, why in rows if why]
        assert not broken, (table, broken[:5])


def test_every_faulty_row_breaks_exactly_one_rule_and_counts_match(gen_faults):
    injected = json.loads((gen_faults / "_truth" / "faults.json").read_text())
    with duckdb.connect() as con:
        listed = Counter(
            con.execute(
                f"select table_name, raw_key, reason from read_parquet('{gen_faults / '_truth' / 'faults.parquet'}')"
            ).fetchall()
        )
    found: Counter = Counter()
    for table, rows in recount(gen_faults).items():
        for key, why in rows:
            assert len(why) <= 1, (table, key, why)
            if why:
                found[(table, key, why[0])] += 1
    assert found == listed
    per_kind = Counter({(t, r): c for t, reasons in injected.items() for r, c in reasons.items()})
    recounted: Counter = Counter()
    for (t, _, r), c in found.items():
        recounted[(t, r)] += c
    assert recounted == per_kind
    # Every kind that applies to a table was injected into it.
    assert set(injected["referrals"]) >= {"self_referral", "referral_cycle", "orphan_reference", "duplicate_id"}
    assert set(injected["transactions"]) == {
        "missing_id",
        "missing_value",
        "unknown_type",
        "malformed_timestamp",
        "future_timestamp",
        "duplicate_id",
        "orphan_reference",
        "unknown_currency",
        "out_of_range",
        "refund_rejected",
    }
    assert all(c >= 1 for reasons in injected.values() for c in reasons.values())


def test_faults_only_append_rows(gen_clean, gen_faults):
    """The clean rows of a --faults run are exactly the rows of the clean run."""
    p = params(gen_faults)
    with duckdb.connect() as con:
        for table in TABLES:
            clean = f"read_parquet('{gen_clean / (table + '.parquet')}')"
            faulty = f"read_parquet('{gen_faults / (table + '.parquet')}')"
            cols = [r[0] for r in con.execute(f"describe select * from {clean}").fetchall()]
            as_text = ", ".join(f"{c}::varchar" for c in cols)
            missing = scalar(
                con, f"select count(*) from (select {as_text} from {clean} except all select {as_text} from {faulty})"
            )
            assert missing == 0, table
        extra_customers = p["n_valid_customers"] - p["n_customers"]
        assert extra_customers >= 2 and extra_customers % 2 == 0  # referral-cycle pairs
        latent = scalar(con, f"select count(*) from read_parquet('{gen_faults}/_truth/customer_latent.parquet')")
        assert latent == p["n_valid_customers"]
