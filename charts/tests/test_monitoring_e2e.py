"""End to end on 127.0.0.1: a real Prometheus scrapes the running service with the chart's rules
(a test overlay shortens `for:`), the TAK peer is stopped while detections keep arriving, the
DetectionApiTakDisconnected alert goes pending then firing, and a real Alertmanager with the
committed routing delivers it to the paging receiver (receivers swapped for a local webhook)."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from detection_ops.localserver import LocalServer, free_port
from detection_ops.observability.local_stack import (
    WebhookSink,
    alertmanager,
    detection_api,
    prometheus,
    sample_detection,
    tak_sink,
    webhook_sink,
)
from detection_ops.observability.rules import RULES_FILE

REPO_ROOT = Path(__file__).resolve().parents[2]
ALERT = "DetectionApiTakDisconnected"
DEV_KEY = "dak_dev_dev-only-not-a-secret"
SHORT_FOR = "3s"


def rules_overlay(path: Path) -> Path:
    """The shipped rules with every `for:` shortened, so an alert fires within seconds."""
    document = yaml.safe_load((REPO_ROOT / RULES_FILE).read_text())
    for group in document["groups"]:
        group.pop("interval", None)
        for rule in group["rules"]:
            if "for" in rule:
                rule["for"] = SHORT_FOR
    path.write_text(yaml.safe_dump(document))
    return path


def alertmanager_overlay(path: Path, sink: WebhookSink) -> Path:
    """The committed routing and inhibition; each receiver posts to the local webhook instead."""
    values = yaml.safe_load((REPO_ROOT / "charts/monitoring/alertmanager-values.yaml").read_text())
    config: dict[str, Any] = copy.deepcopy(values["alertmanager"]["config"])
    config["receivers"] = [
        {"name": receiver["name"], "webhook_configs": [{"url": f"{sink.url}/{receiver['name']}"}]}
        for receiver in config["receivers"]
    ]
    for route in [config["route"], *config["route"]["routes"]]:
        route["group_wait"] = "1s"
        route["group_interval"] = "1s"
    path.write_text(yaml.safe_dump(config))
    return path


def prometheus_config(path: Path, rules: Path, metrics_port: int, alertmanager_port: int) -> Path:
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules)],
        "scrape_configs": [
            {
                "job_name": "detection-api",
                "static_configs": [{"targets": [f"127.0.0.1:{metrics_port}"]}],
            }
        ],
        "alerting": {
            "alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{alertmanager_port}"]}]}]
        },
    }
    path.write_text(yaml.safe_dump(config))
    return path


@dataclass
class Stack:
    api: httpx.Client
    tak: LocalServer
    prometheus: LocalServer
    sink: WebhookSink

    def query(self, expr: str) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.prometheus.url}/api/v1/query", params={"query": expr})
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()["data"]["result"]
        return result

    def alert_states(self) -> set[str]:
        response = httpx.get(f"{self.prometheus.url}/api/v1/alerts")
        response.raise_for_status()
        alerts = response.json()["data"]["alerts"]
        return {alert["state"] for alert in alerts if alert["labels"]["alertname"] == ALERT}


def wait_for(check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def stack(
    require_tool: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("e2e")
    prometheus_binary = require_tool("prometheus")
    alertmanager_binary = require_tool("prometheus-alertmanager")
    metrics_port = free_port()
    with ExitStack() as stack:
        sink = stack.enter_context(webhook_sink())
        manager = stack.enter_context(
            alertmanager(
                alertmanager_binary, alertmanager_overlay(folder / "am.yaml", sink), folder
            )
        )
        tak = stack.enter_context(tak_sink(folder))
        settings = {
            "DETECTION_API_METRICS_PORT": str(metrics_port),
            "DETECTION_API_TAK_DESTINATIONS": f"tcp://127.0.0.1:{tak.port}",
            "DETECTION_API_DELIVERY_BACKOFF_MAX_SECONDS": "1",
            "DETECTION_API_DELIVERY_SEND_TIMEOUT_SECONDS": "2",
        }
        service = stack.enter_context(detection_api(folder, settings))
        rules = rules_overlay(folder / "rules.yaml")
        config = prometheus_config(folder / "prometheus.yml", rules, metrics_port, manager.port)
        server = stack.enter_context(prometheus(prometheus_binary, config, folder))
        api = stack.enter_context(
            httpx.Client(base_url=service.url, headers={"X-API-Key": DEV_KEY})
        )
        yield Stack(api, tak, server, sink)


def test_tak_outage_fires_and_pages_through_alertmanager(stack: Stack) -> None:
    # Healthy: Prometheus scrapes the service, a detection reaches TAK, nothing fires.
    wait_for(
        lambda: [r["value"][1] for r in stack.query('up{job="detection-api"}')] == ["1"],
        "the scrape",
    )
    assert stack.api.post("/v1/detections", json=sample_detection()).status_code == 201
    wait_for(lambda: bool(stack.query("detection_api:tak_connected:max == 1")), "the TAK link")
    wait_for(lambda: bool(stack.query("max(detection_api_outbox_depth) == 0")), "an empty outbox")
    assert stack.alert_states() == set()

    # TAK stops while detections keep arriving: pending first, firing after `for:`.
    stack.tak.stop()
    seen: set[str] = set()

    def fired() -> bool:
        stack.api.post("/v1/detections", json=sample_detection())
        seen.update(stack.alert_states())
        return "firing" in seen

    wait_for(fired, f"{ALERT} to fire")
    assert "pending" in seen, f"{ALERT} fired without going through pending: {seen}"

    # Alertmanager routes the page to the paging receiver.
    def paged() -> bool:
        return any(
            note["receiver"] == "pager"
            and any(alert["labels"]["alertname"] == ALERT for alert in note["alerts"])
            for note in stack.sink.received()
        )

    wait_for(paged, f"{ALERT} to reach the pager receiver")
    (note,) = [n for n in stack.sink.received() if n["receiver"] == "pager"][:1]
    (alert,) = [a for a in note["alerts"] if a["labels"]["alertname"] == ALERT][:1]
    assert alert["status"] == "firing"
    assert alert["labels"]["severity"] == "page"
    assert alert["annotations"]["runbook_url"].endswith(f"/docs/runbooks/{ALERT}.md")
