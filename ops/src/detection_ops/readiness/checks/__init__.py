"""The checks, one module per checklist section; importing this package registers them all."""

from detection_ops.readiness.checks import (
    cicd,
    database,
    deployment,
    documentation,
    infrastructure,
    observability,
    recovery,
    security,
)

__all__ = [
    "cicd",
    "database",
    "deployment",
    "documentation",
    "infrastructure",
    "observability",
    "recovery",
    "security",
]
