#!/usr/bin/env bash
# The marketers' report: renders data/report/report.html (self-contained: its PNGs are
# embedded) and the PNGs beside it from the serving copy SERVING_DIR/customer_value.duckdb
# (default data/serving), opened read-only. Build first (scripts/build.sh). Extra
# arguments go to python -m customer_value.report, e.g. --out /some/folder.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh
python -m customer_value.report "$@"
