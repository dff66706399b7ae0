"""The RPO item also needs the chart's hourly backup CronJob: each way of losing it fails the item
(test_readiness_mutations.py holds the one mutation per item; these are the CronJob's)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from detection_ops.readiness.model import REGISTRY
from detection_ops.readiness.report import run_check
from detection_ops.readiness.sources import Sources
from ops.tests.test_readiness_mutations import REPO_ROOT, TEMPLATES, mutate

RPO = next(check for check in REGISTRY if check.item == "RPO target: < 1 hour")


@pytest.fixture(scope="module")
def repository(require_tool: Callable[[str], str]) -> Sources:
    require_tool("helm")
    return Sources(REPO_ROOT)


@pytest.mark.parametrize(
    ("relative", "old", "new", "evidence"),
    [
        (
            "charts/detection-api/values-production.yaml",
            "backup:\n  enabled: true",
            "backup:\n  enabled: false",
            "production: no CronJob detection-api-backup",
        ),
        (
            f"{TEMPLATES}/cronjob-backup.yaml",
            "concurrencyPolicy: Forbid",
            "concurrencyPolicy: Allow",
            "staging: backups may overlap",
        ),
        (
            f"{TEMPLATES}/cronjob-backup.yaml",
            'args: ["backup",',
            'args: ["restore",',
            "staging: CronJob runs no backup",
        ),
    ],
    ids=["production-without-backups", "overlapping-backups", "not-the-backup-command"],
)
def test_rpo_item_fails_without_the_hourly_backup_cronjob(
    repository: Sources, tmp_path: Path, relative: str, old: str, new: str, evidence: str
) -> None:
    assert run_check(RPO, repository).passed
    outcome = run_check(RPO, mutate(tmp_path, relative, old, new))
    assert not outcome.passed
    assert evidence in outcome.evidence
