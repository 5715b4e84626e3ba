#!/usr/bin/env bash
# Prepares a checkout to run: a .venv with the pinned dependencies, the project's
# Python package, and (when RAW_DATA_DIR is not set) the demo data. Safe to run
# again: each step is skipped when it is already done. Sourced by build.sh and test.sh.
# With `--target spark` among its arguments (or build.sh's), also a .venv-spark with
# dbt-spark and pyspark (requirements-spark.txt) and a Java runtime, and that venv's
# dbt first on PATH (docs/spark.md).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

python_bin="${PYTHON:-$(command -v python3.11 || command -v python3)}"
if ! "$python_bin" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    echo "setup: Python 3.11 is required, found $("$python_bin" --version 2>&1) at $python_bin." >&2
    echo "setup: set PYTHON=/path/to/python3.11 and run again." >&2
    exit 1
fi

if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv with $python_bin"
    "$python_bin" -m venv .venv
fi

wanted="$(cat requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ "$(cat .venv/.installed 2>/dev/null)" != "$wanted" ]; then
    echo "setup: installing pinned dependencies into .venv"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
    echo "$wanted" > .venv/.installed
fi

export PATH="$PWD/.venv/bin:$PATH"
export DBT_PROFILES_DIR="$PWD"

# Demo data: generated once per generator version, only when no RAW_DATA_DIR is given.
if [ -z "${RAW_DATA_DIR:-}" ]; then
    export RAW_DATA_DIR="data/demo"
    demo_args="--customers 5000 --seed 42"
    demo_stamp="$(cat customer_value/generator/*.py | sha256sum | cut -d' ' -f1) $demo_args"
    if [ "$(cat "$RAW_DATA_DIR/.generated" 2>/dev/null)" != "$demo_stamp" ]; then
        echo "setup: generating demo data into $RAW_DATA_DIR"
        rm -rf "$RAW_DATA_DIR"
        # shellcheck disable=SC2086
        python -m customer_value.generator $demo_args --out "$RAW_DATA_DIR" --quiet
        echo "$demo_stamp" > "$RAW_DATA_DIR/.generated"
    fi
fi
echo "setup: raw data from $RAW_DATA_DIR"

setup_target=""
setup_previous=""
for setup_arg in "$@"; do
    case "$setup_previous $setup_arg" in
        "--target spark" | *" --target=spark" | "-t spark") setup_target=spark ;;
    esac
    setup_previous="$setup_arg"
done
if [[ $setup_target == spark ]]; then
    if ! command -v java > /dev/null; then
        echo "setup: the spark target needs Java; installing openjdk-17-jre-headless with apt-get"
        setup_sudo=""
        if [ "$(id -u)" != 0 ]; then setup_sudo="sudo"; fi
        if ! { $setup_sudo apt-get update -qq && $setup_sudo apt-get install -y -qq openjdk-17-jre-headless; }; then
            echo "setup: could not install openjdk-17-jre-headless; install a Java 17 runtime (java on PATH) and run again." >&2
            exit 1
        fi
    fi
    if [ ! -x .venv-spark/bin/python ]; then
        echo "setup: creating .venv-spark with $python_bin"
        "$python_bin" -m venv .venv-spark
    fi
    wanted_spark="$(cat requirements-spark.txt | sha256sum | cut -d' ' -f1)"
    if [ "$(cat .venv-spark/.installed 2>/dev/null)" != "$wanted_spark" ]; then
        echo "setup: installing the spark target's pinned dependencies into .venv-spark"
        .venv-spark/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-spark.txt
        echo "$wanted_spark" > .venv-spark/.installed
    fi
    export PATH="$PWD/.venv-spark/bin:$PATH"
    mkdir -p "${DBT_SPARK_DIR:-target/spark}"
    echo "setup: spark target: dbt-spark from .venv-spark"
fi
