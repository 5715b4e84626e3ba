"""Purchase summary and hold-out value of raw transactions, in Python (DuckDB SQL), for
checking predictions against what happened next without a dbt build.

The rules are the domain's (docs/measures.md, "The purchase summary"), as of a day:
amounts in USD (``seeds/currency_rates.csv``); a refund counts against the purchase it
reverses, and only if it happened by the day the summary is taken; purchases on one
calendar day are one purchase day, whose value is the day's net total; a day whose net
total is not positive (refunded in full) is no purchase day.

* ``frequency`` x = purchase days up to ``as_of`` - 1; ``recency`` t_x and ``T`` = days from
  the first purchase day to the last one / to ``as_of``, / 7; ``monetary`` = mean net value
  of the repeat purchase days (the first left out; NaN when x = 0);
* ``actual_value``: the net value (refunds of those purchases included, whenever they
  happened) of the purchase days in (as_of, as_of + ``horizon_months``], and
  ``actual_days`` their number; ``actual_value_discounted``: the same with a day d days
  after ``as_of`` discounted as predicted CLV discounts its month,
  ((1 + annual rate)^(1/12))^-m with m = ceil(d / (365.25/12)).  Refunds in the hold-out of purchases made before
  ``as_of`` belong to those earlier days and are not counted.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from ..generator.config import DEFAULT_SEEDS_DIR


def summary_and_holdout(
    raw_dir: str | Path,
    as_of: dt.date,
    horizon_months: int = 12,
    annual_discount_rate: float = 0.0,
    seeds_dir: str | Path = DEFAULT_SEEDS_DIR,
) -> pd.DataFrame:
    """One row per customer with a purchase day on or before ``as_of``, ordered by
    customer_id: customer_id, frequency, recency, T, monetary, actual_value,
    actual_value_discounted, actual_days (``raw_dir`` holds the generator's
    ``transactions.parquet``)."""
    monthly_factor = (1.0 + float(annual_discount_rate)) ** (1.0 / 12.0)
    tx = Path(raw_dir) / "transactions.parquet"
    rates = Path(seeds_dir) / "currency_rates.csv"
    end = as_of + pd.DateOffset(months=horizon_months)
    query = f"""
    with rates as (
        select currency, cast(usd_per_unit as double) as usd_per_unit from read_csv('{rates}', header = true)
    ),
    tx as (
        select t.transaction_id, t.customer_id, cast(t.transacted_at as date) as day,
               t.transaction_type, cast(t.amount as double) * rates.usd_per_unit as usd,
               t.refunded_transaction_id
        from read_parquet('{tx}') as t
        inner join rates on t.currency = rates.currency
    ),
    refunds as (
        select refunded_transaction_id,
               sum(usd) as usd_all,
               sum(usd) filter (where day <= date '{as_of}') as usd_by_as_of
        from tx where transaction_type = 'refund'
        group by refunded_transaction_id
    ),
    purchases as (
        select p.customer_id, p.day,
               p.usd + coalesce(r.usd_by_as_of, 0) as net_as_of,
               p.usd + coalesce(r.usd_all, 0) as net_all
        from tx as p
        left join refunds as r on r.refunded_transaction_id = p.transaction_id
        where p.transaction_type = 'purchase' and p.day <= date '{end.date()}'
    ),
    days as (
        select customer_id, day, sum(net_as_of) as net_as_of, sum(net_all) as net_all
        from purchases group by customer_id, day
    ),
    past as (
        select customer_id, day, net_as_of as net,
               row_number() over (partition by customer_id order by day) as k
        from days where day <= date '{as_of}' and net_as_of > 0
    ),
    summary as (
        select customer_id,
               count(*) - 1 as frequency,
               date_diff('day', min(day), max(day)) / 7.0 as recency,
               date_diff('day', min(day), date '{as_of}') / 7.0 as T,
               avg(net) filter (where k > 1) as monetary
        from past group by customer_id
    ),
    future as (
        select customer_id, sum(net_all) as actual_value, count(*) as actual_days,
               sum(net_all * pow({monthly_factor!r}, -ceil(date_diff('day', date '{as_of}', day) / (365.25 / 12))))
                   as actual_value_discounted
        from days where day > date '{as_of}' and net_all > 0
        group by customer_id
    )
    select s.customer_id, s.frequency, s.recency, s.T, s.monetary,
           coalesce(f.actual_value, 0.0) as actual_value,
           coalesce(f.actual_value_discounted, 0.0) as actual_value_discounted,
           coalesce(f.actual_days, 0) as actual_days
    from summary as s left join future as f on s.customer_id = f.customer_id
    order by s.customer_id
    """
    con = duckdb.connect()
    try:
        con.execute("set threads to 2")
        df = con.execute(query).df()
    finally:
        con.close()
    df["frequency"] = df["frequency"].astype(np.float64)
    df["actual_days"] = df["actual_days"].astype(np.int64)
    return df
