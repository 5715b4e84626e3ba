"""Each formula is written once: a docs block in docs/measures.md (docs/measures.md, top).

The models' YAML reuses the blocks with doc() and the SQL headers only point to them, so
the prose cannot drift between four copies. Reads the files only (no dbt run): a missing
block would also stop `dbt parse`, but this names it and the model.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
MEASURES = ROOT / "docs" / "measures.md"
# Comment lines allowed before a model's SQL starts: what the model is and where its
# formula is written.
MAX_HEADER_LINES = 3
# The settings models' headers belong to the settings (docs/settings.md).
HEADER_EXEMPT = {"int_analysis_settings"}

BLOCK = re.compile(r"^\{% docs (\w+) %\}\n(.*?)^\{% enddocs %\}$", re.DOTALL | re.MULTILINE)
DOC_REF = re.compile(r"""doc\(\s*["'](\w+)["']\s*\)""")
MODEL_NAME = re.compile(r"`(int_\w+)`")


def doc_blocks(path: Path) -> dict[str, str]:
    return dict(BLOCK.findall(path.read_text()))


def all_doc_blocks() -> dict[str, str]:
    blocks: dict[str, str] = {}
    for path in sorted((ROOT / "docs").glob("*.md")):
        blocks.update(doc_blocks(path))
    return blocks


def model_descriptions() -> dict[str, str]:
    descriptions = {}
    for path in sorted((ROOT / "models").rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models", []):
            descriptions[model["name"]] = model.get("description") or ""
    return descriptions


def test_measures_blocks_are_well_formed() -> None:
    text = MEASURES.read_text()
    opening = re.findall(r"\{% docs (\w+) %\}", text)
    assert len(opening) == text.count("{% enddocs %}"), "every docs block closes once"
    assert len(opening) == len(set(opening)), "block names are unique"
    assert set(opening) == set(doc_blocks(MEASURES)), "block tags stand alone on their line"
    assert all(name.startswith("measure_") for name in opening)
    assert len(opening) >= 15


def test_every_doc_reference_exists() -> None:
    blocks = all_doc_blocks()
    missing = []
    for path in sorted((ROOT / "models").rglob("*.yml")):
        for name in DOC_REF.findall(path.read_text()):
            if name not in blocks:
                missing.append(f"{path.relative_to(ROOT)}: doc('{name}')")
    assert not missing, missing


def test_models_named_in_a_block_reference_it() -> None:
    """A model whose formula a block writes down says so with doc(), instead of its own prose."""
    blocks = doc_blocks(MEASURES)
    descriptions = model_descriptions()
    naming: dict[str, set[str]] = {}
    for block, text in blocks.items():
        for model in MODEL_NAME.findall(text):
            naming.setdefault(model, set()).add(block)
    assert naming, "the blocks name their models"
    wrong = []
    for model, named_in in sorted(naming.items()):
        assert model in descriptions, f"{model} is named in docs/measures.md but has no YAML"
        referenced = set(DOC_REF.findall(descriptions[model]))
        if not referenced & named_in:
            wrong.append(f"{model}: description should use doc() of one of {sorted(named_in)}")
    assert not wrong, wrong


def header_lines(sql: str) -> int:
    count = 0
    for line in sql.splitlines():
        stripped = line.strip()
        if stripped.startswith("--"):
            count += 1
        elif stripped:
            break
    return count


def test_intermediate_sql_headers_are_short() -> None:
    long_headers = []
    for path in sorted((ROOT / "models" / "intermediate").rglob("*.sql")):
        if path.stem in HEADER_EXEMPT:
            continue
        lines = header_lines(path.read_text())
        if lines > MAX_HEADER_LINES:
            long_headers.append(f"{path.relative_to(ROOT)}: {lines} comment lines")
    assert not long_headers, f"at most {MAX_HEADER_LINES}, pointing to docs/measures.md: {long_headers}"
