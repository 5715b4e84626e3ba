#!/usr/bin/env bash
# The segments dashboard: Apache Superset on the serving copy (read-only), defined as
# code in customer_value/dashboard.py. The first run installs Superset into
# .venv-superset/ (pins: requirements-superset.txt) and initialises it in SUPERSET_HOME
# (default data/superset); then it serves http://127.0.0.1:${SUPERSET_PORT:-8088}/superset/dashboard/segments/
# until Ctrl-C. `scripts/dashboard.sh setup` sets up and defines the dashboard, then stops.
# Build first (scripts/build.sh): it reads SERVING_DIR/customer_value.duckdb (default data/serving).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh
python -m customer_value.dashboard "$@"
