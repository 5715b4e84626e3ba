"""How right the lists that cost money are: each list of ``marts.customer_segments``
scored against the generator's truth (``<raw>/_truth/``), as a marketer would spend on it.

A formula can be right and the decision it drives wrong, so the segments are judged here
by the people on each list: its size, the share of them that are what the list promises
(precision), the share of the people it should hold that it does hold (recall), and the
share a list drawn at random would get right (chance). docs/validation.md reports these
numbers on generated data of a seed no test uses; tests/python/test_segments.py guards the
rules with them on the tests' own data.

The truth (``customer_latent.parquet`` and ``parameters.json`` of the generator):

* social elite: ``is_influencer`` or ``is_expert`` (about 3 % of customers);
* churned: the customer's dropout (``dropout_at``, the moment of their last purchase
  under BG/NBD) happened by the end of ``as_of_date``; "about to" churn: within
  ``soon_days`` after it, or as many days as the generated data run past ``as_of_date``
  (none with the default ``as_of_date``, the last day of the data);
* valuable: among buyers, the top quarter of the true spend rate while alive
  (purchases per week ``lambda`` x mean purchase-day value ``p / nu``);
* future value: the true expected value of the next ``horizon_weeks`` given the
  customer's true traits (0 once churned): ``(1 - exp(-lambda p t)) / p`` purchase days
  (a Poisson process stopped by a dropout of probability ``p`` after each purchase) x
  ``p_gg / nu``;
* top referrers: buyers whose true referral rate is in the top quarter among buyers.

    python -m customer_value.decisions --database data/customer_value.duckdb --raw data/demo
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

#: Actions that ask a customer to buy more: never for one whose P(alive) is low.
PURCHASE_PUSH_ACTIONS = ("grow_both", "encourage_purchases", "grow_value", "retain_high_value")


@dataclass(frozen=True)
class ListScore:
    """One list against the truth; ``None`` where a number does not apply."""

    name: str
    #: what the list is for, and who is "right" on it
    meaning: str
    size: int
    precision: float | None
    recall: float | None
    #: who the recall is counted over
    recall_of: str
    chance: float | None


def _truth_views(con: duckdb.DuckDBPyConnection, raw_dir: Path, soon_days: int, horizon_weeks: float) -> dict:
    """Create the temp view ``scored``: the mart joined with the truth and its derived
    flags. Returns the generator's parameters."""
    parameters = json.loads((raw_dir / "_truth" / "parameters.json").read_text())
    gg_p = float(parameters["gamma_gamma"]["p"])
    window_end = parameters["window_end_exclusive"]
    latent = (raw_dir / "_truth" / "customer_latent.parquet").as_posix().replace("'", "''")
    con.execute(
        f"""
        create or replace temp view joined as
        select
            segments.*,
            truth.is_influencer or truth.is_expert as is_elite,
            truth.dropout_at,
            truth.referral_rate as true_referral_rate,
            truth.lambda_per_week * {gg_p} / truth.nu as true_spend_rate,
            segments.as_of_date + interval 1 day as as_of_end,
            truth.dropout_at < segments.as_of_date + interval 1 day as is_churned,
            case
                when truth.dropout_at is not null and truth.dropout_at < segments.as_of_date + interval 1 day then 0.0
                else (1 - exp(-truth.lambda_per_week * truth.p_dropout * {horizon_weeks})) / truth.p_dropout
                    * {gg_p} / truth.nu
            end as true_future_value,
            date_diff('day', segments.as_of_date + interval 1 day, timestamp '{window_end}') as days_known_after
        from marts.customer_segments as segments
        inner join read_parquet('{latent}') as truth
            on segments.customer_id = truth.customer_id
        """
    )
    con.execute(
        f"""
        create or replace temp view scored as
        with buyers as (select * from joined where not is_prospect),
        cuts as (
            select
                quantile_cont(true_spend_rate, 0.75) as valuable_cut,
                quantile_cont(true_referral_rate, 0.75) as referrer_cut,
                quantile_cont(true_future_value, 0.75) as future_cut
            from buyers
        )
        select
            joined.*,
            not joined.is_prospect and joined.true_spend_rate >= cuts.valuable_cut as is_valuable,
            not joined.is_prospect and joined.true_referral_rate >= cuts.referrer_cut as is_top_referrer,
            not joined.is_prospect and joined.true_future_value >= cuts.future_cut as is_top_future_value,
            coalesce(joined.dropout_at < joined.as_of_end and joined.dropout_at >= joined.as_of_end - interval 365 day,
                false) as has_churned_last_year,
            coalesce(joined.dropout_at < joined.as_of_end - interval 365 day, false) as has_churned_before_last_year,
            coalesce(
                joined.dropout_at < joined.as_of_end + to_days(least({soon_days}, joined.days_known_after)), false
            ) as is_churned_or_soon
        from joined
        cross join cuts
        """
    )
    return parameters


def _one_row(con: duckdb.DuckDBPyConnection, query: str) -> tuple[Any, ...]:
    """The one row an aggregate query returns."""
    row = con.execute(query).fetchone()
    if row is None:
        raise RuntimeError(f"no row from: {query}")
    return row


def _columns(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in con.execute("select column_name from (describe scored)").fetchall()}


def _score(
    con: duckdb.DuckDBPyConnection,
    name: str,
    meaning: str,
    members: str,
    right: str,
    recall_of: str,
    recall_label: str,
    population: str,
) -> ListScore:
    size, hits, should, found, pop, pop_right = _one_row(
        con,
        f"""
        select
            count(*) filter (where {members}),
            count(*) filter (where ({members}) and ({right})),
            count(*) filter (where {recall_of}),
            count(*) filter (where ({recall_of}) and ({members})),
            count(*) filter (where {population}),
            count(*) filter (where ({population}) and ({right}))
        from scored
        """,
    )
    return ListScore(
        name=name,
        meaning=meaning,
        size=size,
        precision=hits / size if size else None,
        recall=found / should if should else None,
        recall_of=recall_label,
        chance=pop_right / pop if pop else None,
    )


def score_lists(
    database: Path, raw_dir: Path, *, soon_days: int = 182, horizon_weeks: float = 365.25 / 7
) -> list[ListScore]:
    """Every action list of the build in ``database`` against the truth in ``raw_dir``."""
    with duckdb.connect(str(database), read_only=True) as con:
        _truth_views(con, raw_dir, soon_days, horizon_weeks)
        columns = _columns(con)
        known_after = int(_one_row(con, "select min(days_known_after) from scored")[0] or 0)
        churn_right = "is_churned_or_soon" if known_after > 0 else "coalesce(is_churned, false)"
        churn_words = (
            f"churned by as_of_date or within {known_after} days after" if known_after > 0 else "churned by as_of_date"
        )
        push = ", ".join(f"'{a}'" for a in PURCHASE_PUSH_ACTIONS)
        lists = [
            (
                "ambassadors",
                "is_ambassador",
                "invite to the ambassador programme; right: a true influencer or expert",
                "is_elite",
                "is_elite and is_high_clv",
                "true influencers and experts the mart calls high CLV",
                "true",
            ),
            (
                "lapsing high value",
                "is_lapsing_high_value",
                f"personal outreach while it can still work; right: {churn_words}",
                churn_right,
                "is_valuable and has_churned_last_year",
                "valuable customers who churned in the 12 months before as_of_date",
                "not is_prospect",
            ),
            (
                "lapsed high value",
                "is_lapsed_high_value",
                "low-cost win-back; right: churned by as_of_date",
                "coalesce(is_churned, false)",
                "is_valuable and has_churned_before_last_year",
                "valuable customers who churned over 12 months before as_of_date",
                "not is_prospect",
            ),
            (
                "at-risk high value (before the split)",
                "is_at_risk_high_value",
                f"personal outreach; right: {churn_words}",
                churn_right,
                "is_valuable and has_churned_last_year",
                "valuable customers who churned in the 12 months before as_of_date",
                "not is_prospect",
            ),
            (
                "asked to buy more",
                f"recommended_action in ({push})",
                "grow both, encourage purchases, grow value, retain; right: still alive at as_of_date",
                "not coalesce(is_churned, false)",
                "false",
                "",
                "not is_prospect",
            ),
            (
                "high CRV",
                "is_high_crv and not is_prospect",
                "referral programme; right: true referral rate in the buyers' top quarter",
                "is_top_referrer",
                "is_top_referrer",
                "buyers in the true top quarter of referrers",
                "not is_prospect",
            ),
            (
                "high CLV",
                "is_high_clv and not is_prospect",
                "retention spend; right: true expected value of the next 12 months in the buyers' top quarter",
                "is_top_future_value",
                "is_top_future_value",
                "buyers in the true top quarter of future value",
                "not is_prospect",
            ),
        ]
        scores = []
        for name, members, meaning, right, recall_of, recall_label, population in lists:
            needed = {"is_ambassador", "is_lapsing_high_value", "is_lapsed_high_value", "is_at_risk_high_value"}
            flag = members.split()[0]
            if flag in needed and flag not in columns:
                continue
            scores.append(_score(con, name, meaning, members, right, recall_of, recall_label, population))
        return scores


def purchase_push_to_the_departed(database: Path) -> int:
    """Customers asked to buy more although their P(alive) is below the at-risk threshold."""
    push = ", ".join(f"'{a}'" for a in PURCHASE_PUSH_ACTIONS)
    with duckdb.connect(str(database), read_only=True) as con:
        return _one_row(
            con,
            f"""
            select count(*)
            from marts.customer_segments
            cross join intermediate.int_segment_settings as settings
            where recommended_action in ({push})
                and probability_alive < settings.at_risk_max_probability_alive
            """,
        )[0]


@dataclass(frozen=True)
class IntervalCoverage:
    """How often the CLV interval held: per band of the chance of buying nothing."""

    band: str
    customers: int
    #: share whose actual discounted margin over the horizon lay inside [low, high]
    coverage: float
    below: float
    above: float


def interval_coverage(predictions: Path, later: Path) -> list[IntervalCoverage]:
    """The CLV intervals of the build ``predictions`` against what the same customers
    actually brought over its horizon, read from ``later``, a build of the same raw data
    at an as_of_date at least the horizon later: each purchase day's net margin (refunds
    against their purchase's day, as the models count them) in month m after as_of_date,
    times the discount factor of month m. Bands by the interval's shape: central (the
    chance of buying nothing is below 10 %), starting at 0, and [0, 0]."""
    with duckdb.connect() as con:
        con.execute(f"attach '{predictions.as_posix()}' as p (read_only)")
        con.execute(f"attach '{later.as_posix()}' as l (read_only)")
        rows = con.execute(
            """
            with settings as (select * from p.intermediate.int_analysis_settings),
            months as (
                select
                    factors.month_number,
                    factors.discount_factor,
                    cast(settings.as_of_date + to_months(factors.month_number - 1) as date) as after_day,
                    cast(settings.as_of_date + to_months(factors.month_number) as date) as up_to_day
                from p.intermediate.int_discount_factors_computed as factors
                cross join settings
                where factors.month_number <= settings.clv_horizon_months
            ),
            actual as (
                select days.customer_id, sum(days.net_margin * months.discount_factor) as actual_clv
                from l.intermediate.int_purchase_days_aggregated as days
                inner join months
                    on days.purchase_day > months.after_day and days.purchase_day <= months.up_to_day
                group by days.customer_id
            ),
            judged as (
                select
                    case
                        when segments.predicted_clv_high = 0 then '[0, 0]: P(nothing) >= 80 %'
                        when segments.predicted_clv_low = 0 then '[0, q80]: P(nothing) 10-80 %'
                        else '[q10, q90]: P(nothing) < 10 %'
                    end as band,
                    round(coalesce(actual.actual_clv, 0), 2) as actual_clv,
                    segments.predicted_clv_low,
                    segments.predicted_clv_high
                from p.marts.customer_segments as segments
                left join actual
                    on segments.customer_id = actual.customer_id
                where not segments.is_prospect and segments.predicted_clv is not null
            )
            select
                band,
                count(*),
                avg(case when actual_clv between predicted_clv_low and predicted_clv_high then 1.0 else 0.0 end),
                avg(case when actual_clv < predicted_clv_low then 1.0 else 0.0 end),
                avg(case when actual_clv > predicted_clv_high then 1.0 else 0.0 end)
            from judged
            group by rollup (band)
            order by band nulls last
            """
        ).fetchall()
    return [IntervalCoverage(band or "all", n, cov, below, above) for band, n, cov, below, above in rows]


def markdown(scores: list[ListScore]) -> str:
    """The scores as a Markdown table (list / size / precision / recall / chance)."""

    def pct(value: float | None) -> str:
        return "" if value is None else f"{100 * value:.0f} %"

    lines = [
        "| list | what it is for; who is right | size | precision | recall | recall over | chance |",
        "|---|---|---:|---:|---:|---|---:|",
    ]
    for s in scores:
        lines.append(
            f"| {s.name} | {s.meaning} | {s.size:,} | {pct(s.precision)} | {pct(s.recall)} | {s.recall_of} | {pct(s.chance)} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", type=Path, required=True, help="the DuckDB file a build wrote")
    parser.add_argument("--raw", type=Path, required=True, help="the generated raw data folder (with _truth/)")
    parser.add_argument("--soon-days", type=int, default=182, help="'about to churn': within this many days")
    args = parser.parse_args(argv)
    print(markdown(score_lists(args.database, args.raw, soon_days=args.soon_days)))
    print(
        f"\nAsked to buy more with P(alive) below the at-risk threshold: {purchase_push_to_the_departed(args.database)}"
    )


if __name__ == "__main__":
    main()
