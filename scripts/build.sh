#!/usr/bin/env bash
# The main job: set everything up, then `dbt build` into the DuckDB file
# DBT_DUCKDB_PATH (default data/customer_value.duckdb). Extra arguments go to dbt,
# e.g. scripts/build.sh --vars '{as_of_date: 2026-03-31}'.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh
export DBT_DUCKDB_PATH="${DBT_DUCKDB_PATH:-data/customer_value.duckdb}"
mkdir -p "$(dirname "$DBT_DUCKDB_PATH")"
dbt build "$@"
echo "build: done; query it with:"
echo "  .venv/bin/python -c \"import duckdb; print(duckdb.connect('$DBT_DUCKDB_PATH', read_only=True).sql('select * from marts.customer_segments limit 5'))\""
