"""The checklist document: sections (`## Title`) and items (`- [x] text` or `- [ ] text`)."""

from __future__ import annotations

import re
from pathlib import Path

CHECKLIST = Path("docs/production-readiness-checklist.md")
# The seed the checklist was copied from, beside the repository (present on the build machines).
SEED = Path("../shared/seed/production-readiness-checklist.md")

_SECTION = re.compile(r"^## (.+?)\s*$")
_ITEM = re.compile(r"^- \[[ xX]\] (.+?)\s*$")


class ChecklistError(Exception):
    """The checklist document cannot be read as sections of items."""


def parse(text: str) -> list[tuple[str, str]]:
    """(section, item) pairs in document order."""
    items: list[tuple[str, str]] = []
    section = ""
    for number, line in enumerate(text.splitlines(), start=1):
        if heading := _SECTION.match(line):
            section = heading[1]
        elif item := _ITEM.match(line):
            if not section:
                raise ChecklistError(f"line {number}: item {item[1]!r} before any '## ' section")
            items.append((section, item[1]))
    if not items:
        raise ChecklistError("no '- [x] item' lines")
    return items
