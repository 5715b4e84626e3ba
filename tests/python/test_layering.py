"""Which folder of models may read which (docs/development.md, "Which folder reads which").

`dbt parse` writes the manifest into a temporary target; every ref of every model and
snapshot must go to a folder its own folder may read. A new folder under
models/intermediate/ needs its line in READS (and in the written rule) first.
"""

from __future__ import annotations

import json
from pathlib import Path

from dbt_helpers import assert_build_ok, run_dbt

# Every folder may read itself. Sources and seeds are "source" and "seed".
STAGING = {"source", "seed", "staging"}
# Every intermediate folder may also read staging and the seeds.
INTERMEDIATE = {"staging", "seed", "intermediate/core"}
READS: dict[str, set[str]] = {
    "staging": STAGING,
    "intermediate/core": INTERMEDIATE,
    "intermediate/clv": INTERMEDIATE,
    "intermediate/referrals": INTERMEDIATE | {"intermediate/clv"},
    "intermediate/engagement": INTERMEDIATE,
    "intermediate/social": INTERMEDIATE | {"intermediate/referrals", "intermediate/engagement"},
    "intermediate/quality": INTERMEDIATE,
    "intermediate/semantic": INTERMEDIATE,
    "intermediate/segments": INTERMEDIATE
    | {
        "intermediate/clv",
        "intermediate/referrals",
        "intermediate/engagement",
        "intermediate/social",
        "intermediate/quality",
    },
    # Marts read any intermediate folder (not staging), the seeds and the segment history.
    "marts": {"seed", "snapshot", "intermediate/*"},
    "snapshot": {"marts"},
}


def folder_of(node: dict) -> str:
    """The folder a manifest node belongs to, as READS names it."""
    resource_type = node["resource_type"]
    if resource_type in ("source", "seed", "snapshot"):
        return resource_type
    parts = Path(node["original_file_path"]).parts
    assert parts[0] == "models", node["original_file_path"]
    if parts[1] == "intermediate":
        return f"intermediate/{parts[2]}"
    return parts[1]  # staging (base/ included) or marts


def may_read(reader: str, read: str) -> bool:
    allowed = READS[reader] | {reader}
    return read in allowed or ("intermediate/*" in allowed and read.startswith("intermediate/"))


def test_every_ref_goes_to_an_allowed_folder(tmp_path):
    result = run_dbt(tmp_path, tmp_path, command="parse")
    assert_build_ok(result)
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    nodes = {**manifest["nodes"], **manifest["sources"]}

    readers = [n for n in manifest["nodes"].values() if n["resource_type"] in ("model", "snapshot")]
    unknown = sorted({folder_of(n) for n in readers} - READS.keys())
    assert not unknown, f"folders without a rule in READS (and docs/development.md): {unknown}"

    violations = []
    for node in readers:
        reader = folder_of(node)
        for parent_id in node["depends_on"]["nodes"]:
            read = folder_of(nodes[parent_id])
            if not may_read(reader, read):
                violations.append(f"{node['name']} ({reader}) reads {nodes[parent_id]['name']} ({read})")
    assert not violations, "refs against the layering rule:\n" + "\n".join(sorted(violations))
    assert len(readers) > 60  # the manifest held the project's models


def test_the_rule_forbids_what_it_does_not_list():
    assert not may_read("intermediate/clv", "intermediate/referrals")
    assert not may_read("intermediate/core", "intermediate/clv")
    assert not may_read("intermediate/referrals", "intermediate/social")
    assert not may_read("staging", "intermediate/core")
    assert not may_read("marts", "staging")
    assert may_read("intermediate/social", "intermediate/referrals")
    assert may_read("marts", "intermediate/segments")
