"""The monitoring stack values: Alertmanager routing checked by amtool and by a real Alertmanager
(inhibition), and the properties the kube-prometheus-stack, Loki and Alloy values must keep."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from detection_ops.observability.local_stack import alertmanager

REPO_ROOT = Path(__file__).resolve().parents[2]
MONITORING = REPO_ROOT / "charts" / "monitoring"
SEVERITY_RECEIVERS = {
    "page": "pager",
    "critical": "pager",
    "ticket": "ticket",
    "warning": "ticket",
    "info": "chat",
}


def values(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((MONITORING / name).read_text())
    return loaded


@pytest.fixture(scope="module")
def alertmanager_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `alertmanager.config` of the values, as the file Alertmanager reads."""
    path = tmp_path_factory.mktemp("alertmanager") / "alertmanager.yaml"
    path.write_text(yaml.safe_dump(values("alertmanager-values.yaml")["alertmanager"]["config"]))
    return path


def amtool(require_tool: Callable[[str], str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_tool("amtool"), *args], capture_output=True, text=True, check=False
    )


def test_alertmanager_config_passes_amtool(
    require_tool: Callable[[str], str], alertmanager_config: Path
) -> None:
    result = amtool(require_tool, "check-config", str(alertmanager_config))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def routes_test(
    require_tool: Callable[[str], str], config: Path, receiver: str, *labels: str
) -> subprocess.CompletedProcess[str]:
    """`amtool config routes test`: exit 0 only when the labels reach `receiver`."""
    verify = [f"--config.file={config}", f"--verify.receivers={receiver}"]
    return amtool(require_tool, "config", "routes", "test", *verify, *labels)


@pytest.mark.parametrize(("severity", "receiver"), SEVERITY_RECEIVERS.items())
def test_each_severity_reaches_its_receiver(
    require_tool: Callable[[str], str], alertmanager_config: Path, severity: str, receiver: str
) -> None:
    labels = ("alertname=DetectionApiTakDisconnected", f"severity={severity}", "destination=tak-a")
    result = routes_test(require_tool, alertmanager_config, receiver, *labels)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == receiver


def test_a_wrong_receiver_fails_amtool(
    require_tool: Callable[[str], str], alertmanager_config: Path
) -> None:
    result = routes_test(require_tool, alertmanager_config, "pager", "severity=ticket")
    assert result.returncode != 0


def test_heartbeats_notify_nobody(
    require_tool: Callable[[str], str], alertmanager_config: Path
) -> None:
    labels = ("alertname=Watchdog", "severity=none")
    result = routes_test(require_tool, alertmanager_config, "null", *labels)
    assert result.returncode == 0, result.stdout + result.stderr


def test_receivers_reference_secret_files_only() -> None:
    """No credential is committed: PagerDuty, Slack and the ticket bridge read mounted files."""
    config = values("alertmanager-values.yaml")["alertmanager"]["config"]
    receivers = {receiver["name"]: receiver for receiver in config["receivers"]}
    secrets_dir = "/etc/alertmanager/secrets/alertmanager-receivers/"
    (pagerduty,) = receivers["pager"]["pagerduty_configs"]
    (slack,) = receivers["chat"]["slack_configs"]
    (webhook,) = receivers["ticket"]["webhook_configs"]
    assert set(pagerduty) & {"routing_key", "service_key"} == set()
    assert pagerduty["routing_key_file"].startswith(secrets_dir)
    assert "api_url" not in slack
    assert slack["api_url_file"].startswith(secrets_dir)
    assert webhook["http_config"]["authorization"]["credentials_file"].startswith(secrets_dir)
    mounted = values("kube-prometheus-stack-values.yaml")["alertmanager"]["alertmanagerSpec"]
    assert mounted["secrets"] == ["alertmanager-receivers"]


@pytest.fixture(scope="module")
def live_alertmanager(
    require_tool: Callable[[str], str],
    alertmanager_config: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    binary = require_tool("prometheus-alertmanager")
    with alertmanager(binary, alertmanager_config, tmp_path_factory.mktemp("am-run")) as server:
        yield server.url


def post_alerts(url: str, *labels: dict[str, str]) -> None:
    alerts = [{"labels": label, "annotations": {"summary": "test"}} for label in labels]
    response = httpx.post(f"{url}/api/v2/alerts", json=alerts, timeout=5)
    assert response.status_code == 200, response.text


def alert_states(url: str, alertname: str, expected: int) -> dict[str, dict[str, Any]]:
    """Each severity's status once Alertmanager has processed `expected` alerts of that name."""
    deadline = time.monotonic() + 15
    while True:
        response = httpx.get(f"{url}/api/v2/alerts", params={"filter": f'alertname="{alertname}"'})
        found = {alert["labels"]["severity"]: alert["status"] for alert in response.json()}
        settled = all(status["state"] != "unprocessed" for status in found.values())
        if (len(found) == expected and settled) or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_a_page_inhibits_the_ticket_of_the_same_alert(live_alertmanager: str) -> None:
    base = {"alertname": "DetectionApiOutboxDepthHigh", "destination": "tak-a"}
    post_alerts(live_alertmanager, base | {"severity": "page"}, base | {"severity": "ticket"})
    states = alert_states(live_alertmanager, "DetectionApiOutboxDepthHigh", expected=2)
    assert states["page"]["state"] == "active"
    assert states["ticket"]["state"] == "suppressed"
    assert states["ticket"]["inhibitedBy"]


def test_a_page_does_not_inhibit_another_destination(live_alertmanager: str) -> None:
    name = "DetectionApiOutboxOldestPendingTooOld"
    post_alerts(
        live_alertmanager,
        {"alertname": name, "destination": "tak-a", "severity": "page"},
        {"alertname": name, "destination": "tak-b", "severity": "ticket"},
    )
    states = alert_states(live_alertmanager, name, expected=2)
    assert states["ticket"]["state"] == "active"


def test_a_ticket_inhibits_info_of_the_same_alert(live_alertmanager: str) -> None:
    base = {"alertname": "DetectionApiTakWithoutProofOfDelivery", "destination": "tak-a"}
    post_alerts(live_alertmanager, base | {"severity": "ticket"}, base | {"severity": "info"})
    states = alert_states(live_alertmanager, "DetectionApiTakWithoutProofOfDelivery", expected=2)
    assert states["info"]["state"] == "suppressed"


def test_prometheus_selects_our_monitors_and_keeps_default_rules() -> None:
    stack = values("kube-prometheus-stack-values.yaml")
    spec = stack["prometheus"]["prometheusSpec"]
    assert stack["defaultRules"]["create"] is True
    for selector in ("serviceMonitor", "podMonitor", "rule", "probe"):
        assert spec[f"{selector}SelectorNilUsesHelmValues"] is False
    assert spec["ruleSelector"] == {}
    assert spec["serviceMonitorSelector"] == {}
    assert re.fullmatch(r"\d+d", spec["retention"])
    assert spec["retentionSize"]


def test_stateful_parts_use_gp3_on_the_monitoring_nodes() -> None:
    stack = values("kube-prometheus-stack-values.yaml")
    loki = values("loki-values.yaml")
    claims = [
        stack["prometheus"]["prometheusSpec"]["storageSpec"]["volumeClaimTemplate"]["spec"],
        stack["alertmanager"]["alertmanagerSpec"]["storage"]["volumeClaimTemplate"]["spec"],
    ]
    assert {claim["storageClassName"] for claim in claims} == {"gp3"}
    assert stack["grafana"]["persistence"]["storageClassName"] == "gp3"
    assert loki["singleBinary"]["persistence"]["storageClass"] == "gp3"
    placed = [
        stack["prometheus"]["prometheusSpec"],
        stack["alertmanager"]["alertmanagerSpec"],
        stack["grafana"],
        stack["prometheusOperator"],
        stack["kube-state-metrics"],
        loki["singleBinary"],
    ]
    for part in placed:
        assert part["nodeSelector"] == {"workload": "monitoring"}
        assert {"key": "workload", "operator": "Equal", "value": "monitoring",
                "effect": "NoSchedule"} in part["tolerations"]  # fmt: skip


def test_grafana_sidecar_loads_the_chart_dashboards() -> None:
    sidecar = values("kube-prometheus-stack-values.yaml")["grafana"]["sidecar"]["dashboards"]
    chart_values = yaml.safe_load((REPO_ROOT / "charts/detection-api/values.yaml").read_text())
    assert sidecar["enabled"] is True
    assert sidecar["label"] == chart_values["monitoring"]["dashboards"]["label"]
    assert sidecar["searchNamespace"] == "ALL"


def test_loki_runs_monolithic() -> None:
    loki = values("loki-values.yaml")
    assert loki["deploymentMode"] == "SingleBinary"
    assert loki["singleBinary"]["replicas"] == 1
    assert all(loki[target]["replicas"] == 0 for target in ("backend", "read", "write"))


def alloy_config() -> str:
    content: str = values("alloy-values.yaml")["alloy"]["configMap"]["content"]
    return content


def test_alloy_turns_json_fields_into_three_low_cardinality_labels() -> None:
    config = alloy_config()
    labels_block = re.search(r"stage\.labels \{\s*values = \{(?P<body>[^}]*)\}", config)
    assert labels_block, "no stage.labels in the Alloy pipeline"
    labels = set(re.findall(r"(\w+)\s*=", labels_block["body"]))
    assert labels == {"level", "logger", "route"}
    targets = set(re.findall(r'target_label\s*=\s*"(\w+)"', config)) - {"__path__"}
    assert targets == {"namespace", "app", "container", "color"}
    assert not any("id" in label.split("_") for label in labels | targets)
    assert "stage.json" in config
    assert "loki.write" in config
    assert "promtail" not in yaml.safe_dump(values("alloy-values.yaml")).lower()


def test_alloy_reads_fields_the_service_really_logs() -> None:
    """level, logger and timestamp come from the structlog processors; route from the middleware."""
    logging_source = (REPO_ROOT / "app/src/detection_api/observability/logging.py").read_text()
    middleware = (REPO_ROOT / "app/src/detection_api/api/middleware.py").read_text()
    assert "add_log_level" in logging_source
    assert "add_logger_name" in logging_source
    assert 'TimeStamper(fmt="iso", utc=True)' in logging_source
    assert "route=route" in middleware
