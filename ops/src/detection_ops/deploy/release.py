"""The release as the deploy sees it: which colour is active, and each colour's image and size.

The full state goes to helm on every change (never `--reuse-values`), so a release is exactly
the environment's values file plus these overrides.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

import yaml

Color = Literal["blue", "green"]
COLORS: tuple[Color, Color] = ("blue", "green")


def other(color: Color) -> Color:
    return "green" if color == "blue" else "blue"


@dataclass(frozen=True)
class ColorState:
    tag: str
    digest: str = ""
    replicas: int = 0

    @classmethod
    def from_image(cls, image: str, replicas: int) -> ColorState:
        """Parse `repo:tag` or `repo:tag@sha256:...` as the chart renders it."""
        reference, _, digest = image.partition("@")
        tag = reference.rsplit("/", 1)[-1].partition(":")[2]
        return cls(tag=tag, digest=digest, replicas=replicas)

    def describe(self) -> str:
        return f"{self.tag}{'@' + self.digest if self.digest else ''} x{self.replicas}"


@dataclass(frozen=True)
class ReleaseState:
    active: Color
    blue: ColorState
    green: ColorState

    @property
    def idle(self) -> Color:
        return other(self.active)

    def color(self, color: Color) -> ColorState:
        return self.blue if color == "blue" else self.green

    def with_color(self, color: Color, state: ColorState) -> ReleaseState:
        return replace(self, blue=state) if color == "blue" else replace(self, green=state)

    def switched_to(self, color: Color) -> ReleaseState:
        return replace(self, active=color)

    def values(self, migrations_from: Color | None = None) -> dict[str, Any]:
        """Helm values overriding the environment's file."""
        return {
            "activeColor": self.active,
            "colors": {
                name: {"tag": s.tag, "digest": s.digest, "replicaCount": s.replicas}
                for name, s in (("blue", self.blue), ("green", self.green))
            },
            "migrations": {"imageFromColor": migrations_from or self.active},
        }

    def values_yaml(self, migrations_from: Color | None = None) -> str:
        return yaml.safe_dump(self.values(migrations_from), sort_keys=True)
