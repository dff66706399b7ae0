"""Read the Prometheus rule file the chart ships and the promtool unit tests written against it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

RULES_FILE = Path("charts/detection-api/files/prometheus-rules.yaml")
RULE_TESTS_DIR = Path("charts/monitoring/rule-tests")
SEVERITIES = ("page", "ticket", "info")


@dataclass(frozen=True)
class Rule:
    """One recording or alerting rule with the group it belongs to."""

    group: str
    body: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.body.get("alert") or self.body["record"])

    @property
    def is_alert(self) -> bool:
        return "alert" in self.body

    @property
    def expr(self) -> str:
        return str(self.body["expr"])

    @property
    def severity(self) -> str:
        return str(self.body.get("labels", {}).get("severity", ""))

    @property
    def annotations(self) -> dict[str, str]:
        return dict(self.body.get("annotations", {}))


def load_rules(path: Path) -> list[Rule]:
    """Every rule of a promtool-format rule file, in file order."""
    document = yaml.safe_load(path.read_text())
    return [Rule(group["name"], rule) for group in document["groups"] for rule in group["rules"]]


def alert_cases(test_file: Path) -> Iterator[tuple[str, str, frozenset[str]]]:
    """(test name, alertname, severities expected to fire) for every alert_rule_test of a file."""
    document = yaml.safe_load(test_file.read_text())
    for test in document["tests"]:
        for case in test.get("alert_rule_test", []):
            severities = frozenset(
                str(alert["exp_labels"].get("severity", "")) for alert in case["exp_alerts"]
            )
            yield test["name"], case["alertname"], severities


def runbook_path(runbook_url: str) -> Path:
    """The repository path a runbook URL points at (`.../docs/runbooks/<alert>.md`)."""
    marker = "/docs/runbooks/"
    if marker not in runbook_url:
        raise ValueError(f"runbook_url {runbook_url!r} does not point into docs/runbooks/")
    return Path("docs/runbooks") / runbook_url.split(marker, 1)[1]
