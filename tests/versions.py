"""A second version of `pflege` for the migration tests, as an alliance would write it: the stage
`visa` renamed `visum`, the item `tax_id` renamed `steuer_id`, the fact `visa_valid_until`
renamed `visum_valid_until`, and the item `family_support` dropped; with the mapping between."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from lotse.states import definitions
from lotse.states.process import Catalog
from lotse.tasks.context import Context

# pflege as it was at version 1, frozen here: the shipped file moves on (version 2 and later).
PFLEGE_V1 = Path(__file__).parent / "pflege_v1.yaml"
RENAMES = {"visa": "visum", "tax_id": "steuer_id", "visa_valid_until": "visum_valid_until"}
DROPPED_ITEM = "family_support"
FORWARD: dict[str, Any] = {
    "stages": {"visa": "visum"}, "items": {"tax_id": "steuer_id"},
    "facts": {"visa_valid_until": "visum_valid_until"}, "drop": {"items": [DROPPED_ITEM]},
}
BACKWARD: dict[str, Any] = {
    "stages": {"visum": "visa"}, "items": {"steuer_id": "tax_id"},
    "facts": {"visum_valid_until": "visa_valid_until"},
}


def pflege_v2() -> dict[str, Any]:
    text = PFLEGE_V1.read_text(encoding="utf-8")
    for old, new in RENAMES.items():
        text = re.sub(rf"(?<![\w-]){old}(?![\w-])", new, text)
    data = yaml.safe_load(text)
    data["version"] = 2
    for stage in data["stages"].values():
        stage["checklist"] = [i for i in stage.get("checklist", []) if i["id"] != DROPPED_ITEM]
    data["deadlines"] = {k: d for k, d in data.get("deadlines", {}).items() if d.get("item") != DROPPED_ITEM}
    for transition in data["transitions"]:
        items = transition.get("requires", {}).get("items")
        if items:
            transition["requires"]["items"] = [i for i in items if i != DROPPED_ITEM]
    return data


def write_pflege_v1(folder: Path) -> Path:
    """A copy of pflege v1 in the alliance's own folder, which then replaces the
    shipped `pflege`: the folder a v2 is added to."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "pflege.yaml"
    path.write_bytes(PFLEGE_V1.read_bytes())
    return path


def write_pflege_v2(folder: Path) -> Path:
    """pflege v2 in `folder`, beside v1."""
    path = folder / "pflege-2.yaml"
    path.write_text(yaml.safe_dump(pflege_v2(), allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def add_v2(ctx: Context) -> None:
    """The alliance adds pflege v2 to its folder; the context loads its definitions again."""
    assert ctx.settings.process_dir is not None
    write_pflege_v2(ctx.settings.process_dir)
    ctx.catalog = Catalog.load(ctx.settings.process_dirs)
    ctx.edited = definitions.bind(ctx.catalog, ctx.db)


def write_mapping(path: Path, mapping: dict[str, Any] = FORWARD) -> Path:
    path.write_text(yaml.safe_dump(mapping), encoding="utf-8")
    return path
