"""Read Terraform HCL into plain Python values.

python-hcl2 keeps string quotes (`'"gp3"'`), marks blocks with `__is_block__` and collects
comments; this module strips all three so callers compare against plain values. Expressions stay
as their `${...}` text, so a literal and a reference are never confused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hcl2

_MARKERS = ("__is_block__", "__comments__", "__inline_comments__")


def plain(value: Any) -> Any:
    """Strip python-hcl2's quoting and markers, recursively."""
    if isinstance(value, dict):
        return {plain(key): plain(item) for key, item in value.items() if key not in _MARKERS}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def load_file(path: Path) -> dict[str, Any]:
    """One .tf file as plain values."""
    with path.open(encoding="utf-8") as handle:
        parsed: dict[str, Any] = plain(hcl2.load(handle))
    return parsed


def load_dir(directory: Path) -> dict[str, Any]:
    """All .tf files of a Terraform module, blocks of the same kind concatenated."""
    merged: dict[str, list[Any]] = {}
    for path in sorted(directory.glob("*.tf")):
        for kind, blocks in load_file(path).items():
            merged.setdefault(kind, []).extend(blocks if isinstance(blocks, list) else [blocks])
    return dict(merged)


def blocks(module: dict[str, Any], kind: str) -> dict[str, Any]:
    """Labelled blocks of one kind (`module`, `locals`...) as {label: body}."""
    found: dict[str, Any] = {}
    for block in module.get(kind, []):
        found.update(block)
    return found


def resources(module: dict[str, Any], resource_type: str, kind: str = "resource") -> dict[str, Any]:
    """Resources (or, with kind="data", data sources) of one type as {name: body}."""
    found: dict[str, Any] = {}
    for block in module.get(kind, []):
        found.update(block.get(resource_type, {}))
    return found


def locals_of(module: dict[str, Any]) -> dict[str, Any]:
    """All `locals` of a module merged into one mapping."""
    merged: dict[str, Any] = {}
    for block in module.get("locals", []):
        merged.update(block)
    return merged
