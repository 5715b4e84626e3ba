#!/usr/bin/env bash
# The main job: set everything up, then `dbt build` into the DuckDB file
# DBT_DUCKDB_PATH (default data/customer_value.duckdb); a successful build publishes
# the serving copy of the marts into SERVING_DIR (default data/serving). Extra arguments go to dbt,
# e.g. scripts/build.sh --vars '{as_of_date: 2026-03-31}'.
# With --target spark: dbt-spark in .venv-spark (set up on first use) builds the same
# models on Spark in process, tables under DBT_SPARK_DIR (default target/spark), and
# publishes the marts' Parquet files into SERVING_DIR (docs/spark.md).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh
export DBT_DUCKDB_PATH="${DBT_DUCKDB_PATH:-data/customer_value.duckdb}"
mkdir -p "$(dirname "$DBT_DUCKDB_PATH")"
if [[ ${setup_target:-} == spark ]]; then
    # dbt with the Python models run in the Spark session (customer_value/spark_dbt.py)
    .venv-spark/bin/python -m customer_value.spark_dbt build "$@"
else
    dbt build "$@"
fi
if [[ ${setup_target:-} == spark ]]; then
    echo "build: done on Spark; a build of every mart published them as ${SERVING_DIR:-data/serving}/parquet/<relation>.parquet;"
    echo "export the relations to Parquet with:"
    echo "  .venv-spark/bin/python -m customer_value.spark_export export --out target/spark/export --schema staging intermediate marts"
    exit 0
fi
serving="${SERVING_DIR:-data/serving}/customer_value.duckdb"
echo "build: done; query the serving copy with:"
echo "  .venv/bin/python -c \"import duckdb; print(duckdb.connect('$serving', read_only=True).sql('select * from marts.customer_segments limit 5'))\""
