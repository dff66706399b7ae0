"""The Prometheus rules: promtool checks and unit tests, every alert proven to fire and to stay
silent, every alert documented (severity, summary, current value, runbook that exists), and the
chart ships exactly the tested file."""

from __future__ import annotations

import subprocess
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from charts.tests.conftest import Helm
from detection_ops.deploy.manifests import of_kind
from detection_ops.observability.rules import (
    RULE_TESTS_DIR,
    RULES_FILE,
    SEVERITIES,
    Rule,
    alert_cases,
    load_rules,
    runbook_path,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
RULES = load_rules(REPO_ROOT / RULES_FILE)
ALERTS = [rule for rule in RULES if rule.is_alert]
TEST_FILES = sorted((REPO_ROOT / RULE_TESTS_DIR).glob("*.test.yaml"))


def promtool(require_tool: Callable[[str], str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_tool("promtool"), *args], capture_output=True, text=True, check=False
    )


def test_rule_file_passes_promtool_check(require_tool: Callable[[str], str]) -> None:
    result = promtool(require_tool, "check", "rules", str(REPO_ROOT / RULES_FILE))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(RULES)} rules found" in result.stdout


@pytest.mark.parametrize("test_file", TEST_FILES, ids=lambda path: path.name)
def test_rule_unit_tests_pass(require_tool: Callable[[str], str], test_file: Path) -> None:
    result = promtool(require_tool, "test", "rules", str(test_file))
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_wrong_expectation_fails_promtool(
    require_tool: Callable[[str], str], tmp_path: Path
) -> None:
    """The unit tests can fail: expecting a healthy outbox to alert is reported as a failure."""
    test = {
        "rule_files": [str(REPO_ROOT / RULES_FILE)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": 'detection_api_outbox_depth{destination="tak-a"}', "values": "5x20"}
                ],
                "alert_rule_test": [
                    {
                        "eval_time": "16m",
                        "alertname": "DetectionApiOutboxDepthHigh",
                        "exp_alerts": [{"exp_labels": {"severity": "ticket"}}],
                    }
                ],
            }
        ],
    }
    path = tmp_path / "wrong.test.yaml"
    path.write_text(yaml.safe_dump(test))
    result = promtool(require_tool, "test", "rules", str(path))
    assert result.returncode != 0
    assert "DetectionApiOutboxDepthHigh" in result.stdout + result.stderr


def test_every_alert_fires_and_stays_silent_in_unit_tests() -> None:
    fired: dict[str, set[str]] = defaultdict(set)
    silent: set[str] = set()
    for test_file in TEST_FILES:
        for _, alertname, severities in alert_cases(test_file):
            fired[alertname] |= severities
            if not severities:
                silent.add(alertname)
    missing_fire = sorted(
        f"{rule.name} ({rule.severity})" for rule in ALERTS if rule.severity not in fired[rule.name]
    )
    missing_silent = sorted({rule.name for rule in ALERTS} - silent)
    assert not missing_fire, f"alerts never shown firing: {missing_fire}"
    assert not missing_silent, f"alerts never shown silent on healthy series: {missing_silent}"


def test_unit_tests_name_only_existing_alerts() -> None:
    names = {rule.name for rule in ALERTS}
    tested = {alertname for path in TEST_FILES for _, alertname, _ in alert_cases(path)}
    assert tested <= names, f"tests of alerts that do not exist: {sorted(tested - names)}"


@pytest.mark.parametrize("alert", ALERTS, ids=lambda rule: f"{rule.name}-{rule.severity}")
def test_alert_is_documented(alert: Rule) -> None:
    assert alert.severity in SEVERITIES
    annotations = alert.annotations
    assert annotations.get("summary", "").strip()
    assert "{{ $value" in annotations.get("description", "")
    runbook = runbook_path(annotations.get("runbook_url", ""))
    assert runbook.name == f"{alert.name}.md"
    assert (REPO_ROOT / runbook).is_file(), f"{alert.name}: runbook {runbook} is missing"


def test_runbook_index_lists_every_alert() -> None:
    index = (REPO_ROOT / "docs" / "runbooks" / "README.md").read_text()
    missing = sorted({rule.name for rule in ALERTS if f"({rule.name}.md)" not in index})
    assert not missing, f"docs/runbooks/README.md does not link {missing}"


def test_every_alert_runbook_belongs_to_an_alert() -> None:
    """No runbook outlives its alert (procedure runbooks such as deploy.md are not alerts)."""
    names = {rule.name for rule in ALERTS}
    runbooks = {path.stem for path in (REPO_ROOT / "docs" / "runbooks").glob("DetectionApi*.md")}
    assert runbooks == names


def test_rule_names_are_unique_per_severity() -> None:
    keys = [(rule.name, rule.severity) for rule in RULES]
    assert len(keys) == len(set(keys))


def test_runbook_url_outside_the_runbooks_folder_is_refused() -> None:
    with pytest.raises(ValueError, match="docs/runbooks"):
        runbook_path("https://example.com/wiki/DetectionApiTakDisconnected")


def test_chart_ships_the_tested_rule_file_unchanged(helm: Helm) -> None:
    manifests = helm.template(None, {"monitoring": {"prometheusRule": {"enabled": True}}})
    (rule,) = of_kind(manifests, "PrometheusRule")
    shipped = yaml.safe_load((REPO_ROOT / RULES_FILE).read_text())
    assert rule["spec"] == {"groups": shipped["groups"]}


def shipped_thresholds(helm: Helm, geolocation: dict[str, float] | None) -> dict[str, str]:
    values: dict[str, object] = {"enabled": True}
    if geolocation is not None:
        values["geolocation"] = geolocation
    manifests = helm.template(None, {"monitoring": {"prometheusRule": values}})
    (rule,) = of_kind(manifests, "PrometheusRule")
    records = [r for group in rule["spec"]["groups"] for r in group["rules"] if "record" in r]
    return {r["record"]: r["expr"] for r in records if r["record"].endswith(":threshold")}


def test_geolocation_thresholds_default_to_the_tested_values(helm: Helm) -> None:
    tested = {rule.name: rule.expr for rule in RULES if rule.name.endswith(":threshold")}
    assert shipped_thresholds(helm, None) == tested


def test_geolocation_thresholds_come_from_values(helm: Helm) -> None:
    shipped = shipped_thresholds(helm, {"redFlagRatio": 0.35, "ce90MedianMeters": 120})
    assert shipped == {
        "detection_api:red_flag_ratio:threshold": "vector(0.35)",
        "detection_api:ce90_median_meters:threshold": "vector(120)",
    }


def test_a_threshold_outside_its_range_is_refused(helm: Helm) -> None:
    values = {"enabled": True, "geolocation": {"redFlagRatio": 1.5, "ce90MedianMeters": 50}}
    error = helm.template_error(None, {"monitoring": {"prometheusRule": values}})
    assert "redFlagRatio" in error


def test_runbook_urls_follow_the_published_base(helm: Helm) -> None:
    base = "https://git.example.org/ops/detection-api/-/blob/main/docs/runbooks"
    values = {"enabled": True, "runbookBaseUrl": base + "/"}
    manifests = helm.template(None, {"monitoring": {"prometheusRule": values}})
    (rule,) = of_kind(manifests, "PrometheusRule")
    alerts = [r for group in rule["spec"]["groups"] for r in group["rules"] if "alert" in r]
    assert len(alerts) == len(ALERTS)
    for alert in alerts:
        assert alert["annotations"]["runbook_url"] == f"{base}/{alert['alert']}.md"
