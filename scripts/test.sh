#!/usr/bin/env bash
# Every test: set everything up, lint and type-check the Python (ruff, mypy), lint the SQL,
# `dbt build` (models, data tests and unit tests) on the demo data, then pytest (generator,
# statistics, end-to-end builds).
# Writes to its own database file and serving copy, so it never touches what BI tools read.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh
export DBT_DUCKDB_PATH="${TEST_DUCKDB_PATH:-target/test.duckdb}"
export SERVING_DIR="${TEST_SERVING_DIR:-target/test-serving}"
mkdir -p "$(dirname "$DBT_DUCKDB_PATH")"

echo "test: ruff check, ruff format --check"
ruff check .
ruff format --check .

echo "test: mypy customer_value"
mypy customer_value

echo "test: sqlfluff lint"
sqlfluff lint models analyses tests/dbt

echo "test: dbt build"
rm -f "$DBT_DUCKDB_PATH"
dbt build --warn-error

echo "test: pytest"
python -m pytest "$@"
