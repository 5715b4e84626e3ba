"""docs/settings.yml is the one description of every setting (issue 18).

The defaults in dbt_project.yml and the tables of docs/settings.md must say what it says,
and no model but the one-row settings models reads a var. Fast: no dbt run.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from customer_value.settings_doc import DOC_PATH, allowed_text, load_sections, load_settings, render_page

PROJECT_DIR = Path(__file__).resolve().parents[2]
NUMBER_KINDS = {"number", "integer", "fraction_open", "positive"}
KINDS = NUMBER_KINDS | {"choice", "boolean", "date", "currency", "timestamp_formats"}
VAR_CALL = re.compile(r"(?<![\w.])var\s*\(")

#: Macros that read vars, and why: the checks themselves, and the settings that must be
#: known while SQL is written (the raw files' format, how their timestamps are written,
#: the segment history's tolerance) or in the hooks around the models (serving, the run summary).
MACROS_READING_VARS = {
    "settings_checks.sql",  # check_settings(): every var against docs/settings.yml
    "raw_data.sql",  # raw_format: which file every base model reads
    "timestamps.sql",  # raw_timestamp_formats: how base models parse timestamps
    "segment_history.sql",  # history_relative_tolerance: the segment history's change test
    "serving.sql",  # accept_rejected_rows, max_rejected_share: on-run-end publishing
    "run_summary.sql",  # max_rejected_share: the end-of-build lines and their data test
}


def test_every_setting_is_described_completely():
    for name, setting in load_settings().items():
        assert setting["kind"] in KINDS, name
        assert setting.get("meaning"), name
        assert "default" in setting, name
        if setting["kind"] in NUMBER_KINDS:
            assert setting.get("unit"), f"{name}: a number needs its unit (it is quoted in the error message)"
            assert "min" in setting or setting["kind"] == "positive", name
        if setting["kind"] == "choice":
            assert setting["default"] in setting["values"], name
        assert allowed_text(setting), name


def test_dbt_project_declares_the_defaults_of_settings_yml():
    declared = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
    described = {name: setting["default"] for name, setting in load_settings().items()}
    assert sorted(declared) == sorted(described), "a var is in dbt_project.yml or docs/settings.yml, not both"
    differing = {name: (declared[name], described[name]) for name in declared if declared[name] != described[name]}
    assert not differing, f"defaults (dbt_project.yml, docs/settings.yml) differ: {differing}"


def test_settings_page_is_generated_from_settings_yml():
    page = DOC_PATH.read_text()
    assert page == render_page(page, load_sections()), (
        "docs/settings.md differs from docs/settings.yml: edit docs/settings.yml, then"
        " python -m customer_value.settings_doc --write"
    )


def test_only_the_settings_models_read_vars():
    readers = sorted(
        str(path.relative_to(PROJECT_DIR))
        for path in (PROJECT_DIR / "models").rglob("*")
        if path.suffix in {".sql", ".py"}
        and VAR_CALL.search(path.read_text())
        and not re.fullmatch(r"int_\w+_settings\.sql", path.name)
    )
    assert readers == [], f"models reading var() (read the setting from its int_*_settings model): {readers}"


def test_macros_read_vars_only_where_they_implement_settings():
    readers = {path.name for path in (PROJECT_DIR / "macros").rglob("*.sql") if VAR_CALL.search(path.read_text())}
    assert readers <= MACROS_READING_VARS, f"new macros reading var(): {sorted(readers - MACROS_READING_VARS)}"
