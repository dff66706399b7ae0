"""Terraform side of the toolkit: HCL reading, sizing, cost report, plan/apply wrapper."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[4]
INFRA_DIR = REPO_ROOT / "infra"
ENVIRONMENTS = ("dev", "staging", "production")


class InfraError(Exception):
    """A problem an operator can act on; reported as one clear message, never a traceback."""
