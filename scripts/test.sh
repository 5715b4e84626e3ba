#!/usr/bin/env bash
# Every test: set everything up, lint and type-check the Python (ruff, mypy), lint the SQL,
# `dbt build` (models, data tests and unit tests) on the demo data, then pytest (generator,
# statistics, end-to-end builds). Arguments go to pytest.
#
#   scripts/test.sh                  everything (what CI runs)
#   scripts/test.sh --fast           the contributor loop, about 2 minutes: ruff, mypy,
#                                    sqlfluff on the SQL files changed since the last commit,
#                                    dbt build on the demo data, pytest -m "not slow"
#   scripts/test.sh --pytest ARGS    pytest alone (e.g. --pytest tests/python/test_clv.py -k fit)
#
# Writes to its own database file and serving copy, so it never touches what BI tools read.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mode=all
case "${1:-}" in
    --fast) mode=fast; shift ;;
    --pytest) mode=pytest; shift ;;
esac
source scripts/setup.sh
export DBT_DUCKDB_PATH="${TEST_DUCKDB_PATH:-target/test.duckdb}"
export SERVING_DIR="${TEST_SERVING_DIR:-target/test-serving}"
mkdir -p "$(dirname "$DBT_DUCKDB_PATH")"

if [[ $mode == pytest ]]; then
    echo "test: pytest $*"
    exec python -m pytest "$@"
fi

echo "test: ruff check, ruff format --check"
ruff check .
ruff format --check .

echo "test: mypy customer_value"
mypy customer_value

if [[ $mode == fast ]]; then
    mapfile -t changed < <({ git diff --name-only HEAD; git ls-files --others --exclude-standard; } \
        | grep -E '^(models|analyses|tests/dbt)/.*\.sql$' | sort -u | while read -r f; do [[ -f $f ]] && echo "$f"; done)
    if (( ${#changed[@]} > 0 )); then
        echo "test: sqlfluff lint (${#changed[@]} changed file(s))"
        sqlfluff lint "${changed[@]}"
    else
        echo "test: sqlfluff lint: no SQL file changed since the last commit"
    fi
else
    echo "test: sqlfluff lint"
    sqlfluff lint models analyses tests/dbt
fi

echo "test: dbt build"
rm -f "$DBT_DUCKDB_PATH"
dbt build --warn-error

if [[ $mode == fast ]]; then
    echo "test: pytest -m 'not slow'"
    exec python -m pytest -m "not slow" "$@"
fi
# Two pytest-xdist workers (PYTEST_WORKERS sets another number, 0 runs in this process);
# each test file runs whole on one worker, so a file's module fixtures are built once.
workers="${PYTEST_WORKERS:-2}"
echo "test: pytest (${workers} workers)"
python -m pytest -n "$workers" --dist loadfile --durations=25 "$@"
