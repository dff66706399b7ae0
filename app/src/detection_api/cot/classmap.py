"""Object class -> CoT type mapping (MIL-STD-2525 derived atoms).

A CoT type for a detected thing reads `a-<affiliation>-<dimension>[-<function>...]`. The affiliation
is a property of the *source* (a border camera may report everything as `u`nknown, a range camera
as `h`ostile), the rest is a property of the *object class*. Templates therefore carry an `{aff}`
placeholder that is filled per source.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

AFFILIATIONS: Final = frozenset({"p", "u", "a", "f", "n", "s", "h", "j", "k", "o", "x"})
"""CoT affiliation letters: pending, unknown, assumed friend, friend, neutral, suspect, hostile,
joker, faker, none, other."""

DEFAULT_AFFILIATION: Final = "u"
UNKNOWN_CLASS: Final = "unknown"

# 2525-derived atoms; `G` = ground, `S` = sea surface, `A` = air.
DEFAULT_CLASS_TYPES: Final[Mapping[str, str]] = {
    "person": "a-{aff}-G-U-C-I",  # ground unit, combat, infantry: what TAK users expect for people
    "vehicle": "a-{aff}-G-E-V",  # ground equipment, vehicle
    "car": "a-{aff}-G-E-V-C",  # civilian vehicle
    "truck": "a-{aff}-G-E-V-C",
    "boat": "a-{aff}-S",  # sea surface track
    "aircraft": "a-{aff}-A",  # air track
    UNKNOWN_CLASS: "a-{aff}-G",  # unknown ground: the honest default
}

# After the affiliation: a dimension letter, then optional function atoms (letters/digits).
_TEMPLATE = re.compile(r"^a-\{aff\}-[PAGSUFX](-[A-Za-z0-9]+)*$")
_CLASS_NAME = re.compile(r"^[a-z0-9_]{1,64}$")


class CotTypeError(ValueError):
    """A class map or affiliation is not valid; the message names the field and the reason."""


def validate_affiliation(affiliation: str, *, field_name: str = "affiliation") -> str:
    if affiliation not in AFFILIATIONS:
        allowed = ", ".join(sorted(AFFILIATIONS))
        raise CotTypeError(f"{field_name}: {affiliation!r} is not a CoT affiliation ({allowed})")
    return affiliation


@dataclass(frozen=True)
class CotTypeMap:
    """Maps detector classes to CoT types; unknown classes fall back to `a-{aff}-G`.

    `source_affiliations` overrides the default affiliation for named sources.
    """

    class_types: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_CLASS_TYPES))
    default_affiliation: str = DEFAULT_AFFILIATION
    source_affiliations: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, template in self.class_types.items():
            if not _CLASS_NAME.match(name):
                raise CotTypeError(f"class_types: class name {name!r} must be 1-64 of [a-z0-9_]")
            if not _TEMPLATE.match(template):
                raise CotTypeError(
                    f"class_types[{name!r}]: {template!r} is not an atom type template "
                    "like 'a-{aff}-G-E-V' (a, {aff}, a dimension letter, then atoms)"
                )
        if UNKNOWN_CLASS not in self.class_types:
            raise CotTypeError(f"class_types: needs an entry for {UNKNOWN_CLASS!r}")
        validate_affiliation(self.default_affiliation, field_name="default_affiliation")
        for source, affiliation in self.source_affiliations.items():
            validate_affiliation(affiliation, field_name=f"source_affiliations[{source!r}]")

    def affiliation_for(self, source: str) -> str:
        return self.source_affiliations.get(source, self.default_affiliation)

    def cot_type(self, object_class: str, source: str) -> str:
        """The CoT type for a detection of `object_class` reported by `source`."""
        template = self.class_types.get(object_class.lower(), self.class_types[UNKNOWN_CLASS])
        return template.format(aff=self.affiliation_for(source))
