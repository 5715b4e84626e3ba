"""The settings tables of docs/settings.md, generated from docs/settings.yml.

docs/settings.yml describes every setting (dbt var) once: section, kind, range or allowed
values, default, unit and meaning. `python -m customer_value.settings_doc --write`
rewrites the part of docs/settings.md between its two markers (the prose around it is
kept); `--check` (and tests/python/test_settings_spec.py) fails when the page is stale.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

PROJECT_DIR = Path(__file__).resolve().parents[1]
SPEC_PATH = PROJECT_DIR / "docs" / "settings.yml"
DOC_PATH = PROJECT_DIR / "docs" / "settings.md"
BEGIN = "<!-- settings tables: generated from docs/settings.yml by python -m customer_value.settings_doc --write -->"
END = "<!-- end of the generated settings tables -->"


def load_sections(path: Path = SPEC_PATH) -> list[dict[str, Any]]:
    """The sections of docs/settings.yml, each with its title, note and settings."""
    sections: list[dict[str, Any]] = yaml.safe_load(path.read_text())["sections"]
    return sections


def load_settings(path: Path = SPEC_PATH) -> dict[str, dict[str, Any]]:
    """Every setting by name, in the order of the file."""
    return {setting["name"]: setting for section in load_sections(path) for setting in section["settings"]}


def _value(value: Any) -> str:
    """A default as YAML writes it."""
    if value == "":
        return '""'
    text: str = yaml.safe_dump(value, default_flow_style=True).strip()
    return text.removesuffix("...").strip()


def allowed_text(setting: dict[str, Any]) -> str:
    """What a value must be, in the docs' words."""
    kind = setting["kind"]
    if "allowed" in setting:
        return str(setting["allowed"])
    if kind == "choice":
        values = [f"`{value}`" for value in setting["values"]]
        return " or ".join(values) if len(values) == 2 else ", ".join(values[:-1]) + " or " + values[-1]
    if kind == "boolean":
        return "`true` or `false`"
    noun = "integer" if kind == "integer" else "number"
    low, high = setting.get("min", 0), setting.get("max")
    if kind == "positive":
        return f"{noun} > 0"
    if kind == "fraction_open":
        return f"{noun} in ({low}, {high})"
    if high is None:
        return f"{noun} >= {low}"
    return f"{noun} in [{low}, {high}]"


def render_tables(sections: list[dict[str, Any]]) -> str:
    """The generated part of docs/settings.md: one heading, note and table per section."""
    parts = []
    for section in sections:
        lines = [f"## {section['title']}", ""]
        if section.get("note"):
            lines += [section["note"], ""]
        lines += ["| var | default | allowed | meaning |", "|---|---|---|---|"]
        for setting in section["settings"]:
            unit = f" ({setting['unit']})" if setting.get("unit") and setting["kind"] != "choice" else ""
            lines.append(
                f"| `{setting['name']}` | `{_value(setting['default'])}` | {allowed_text(setting)}{unit}"
                f" | {setting['meaning']} |"
            )
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def render_page(page: str, sections: list[dict[str, Any]]) -> str:
    """The page with the part between the markers replaced by the generated tables."""
    before, found, rest = page.partition(BEGIN)
    _, found_end, after = rest.partition(END)
    if not found or not found_end:
        raise ValueError(f"{DOC_PATH} lacks the markers {BEGIN!r} and {END!r}")
    return f"{before}{BEGIN}\n\n{render_tables(sections)}\n\n{END}{after}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", action="store_true", help="rewrite docs/settings.md's tables")
    group.add_argument("--check", action="store_true", help="fail when docs/settings.md's tables are stale")
    args = parser.parse_args(argv)
    page = DOC_PATH.read_text()
    expected = render_page(page, load_sections())
    if args.write:
        DOC_PATH.write_text(expected)
        print(f"wrote {DOC_PATH}")
        return 0
    if page != expected:
        print(f"{DOC_PATH} is stale: run python -m customer_value.settings_doc --write", file=sys.stderr)
        return 1
    print(f"{DOC_PATH} matches docs/settings.yml")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
