"""Every series a rule or a dashboard panel reads exists: the real service runs, real traffic goes
through it (stored, RED-flagged and rejected detections, a batch, auth failures, unknown routes,
two TAK peers that are then stopped, a growing outbox up to its cap and stale events dropped),
its /metrics is scraped, and every metric name, label and matched value of every PromQL
expression must be found there. Series from Kubernetes exporters, which cannot run here, must be
in the declared catalogue below; recorded series must be recorded by the rule file."""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import promql_parser
import pytest
from prometheus_client.parser import text_string_to_metric_families

from detection_ops.localserver import LocalServer, free_port
from detection_ops.observability.dashboards import (
    DASHBOARDS,
    OUTPUT_DIR,
    as_plain_promql,
    expressions,
)
from detection_ops.observability.local_stack import (
    detection_api,
    sample_detection,
    tak_sink,
)
from detection_ops.observability.rules import RULES_FILE, load_rules

REPO_ROOT = Path(__file__).resolve().parents[2]
DEV_KEY = "dak_dev_dev-only-not-a-secret"
OUTBOX_CAP = 30
# Labels Prometheus adds when it scrapes a target through the chart's ServiceMonitor.
TARGET_LABELS = {
    "instance", "job", "namespace", "pod", "service", "endpoint", "container", "color",
}  # fmt: skip
# Series of kube-state-metrics v2, cAdvisor and the kubelet (kube-prometheus-stack), and labels.
KUBERNETES_SERIES = {
    "container_cpu_usage_seconds_total": {
        "namespace",
        "pod",
        "container",
        "cpu",
        "id",
        "image",
        "name",
    },
    "container_memory_working_set_bytes": {"namespace", "pod", "container", "id", "image", "name"},
    "kube_pod_container_resource_limits": {
        "namespace",
        "pod",
        "container",
        "node",
        "resource",
        "unit",
        "uid",
    },
    "kube_pod_container_status_restarts_total": {"namespace", "pod", "container", "uid"},
    "kube_pod_container_status_ready": {"namespace", "pod", "container", "uid"},
    "kube_poddisruptionbudget_status_current_healthy": {"namespace", "poddisruptionbudget"},
    "kube_poddisruptionbudget_status_desired_healthy": {"namespace", "poddisruptionbudget"},
    "kube_poddisruptionbudget_status_expected_pods": {"namespace", "poddisruptionbudget"},
    "kubelet_volume_stats_used_bytes": {"namespace", "persistentvolumeclaim"},
    "kubelet_volume_stats_capacity_bytes": {"namespace", "persistentvolumeclaim"},
    "kube_cronjob_status_last_successful_time": {"namespace", "cronjob"},
    "kube_cronjob_created": {"namespace", "cronjob"},
}


# ---------------------------------------------------------------------------------------------
# What the expressions read


@dataclass
class Reads:
    """The selectors (name, matchers) and the grouping/matching labels of one expression."""

    selectors: list[tuple[str, list[tuple[str, str, str]]]] = field(default_factory=list)
    labels: set[str] = field(default_factory=set)


def walk(node: Any, reads: Reads) -> None:
    kind = type(node).__name__
    if kind == "VectorSelector":
        matchers = [(m.name, str(m.op).rsplit(".", 1)[-1], m.value) for m in node.matchers.matchers]
        reads.selectors.append((node.name, matchers))
    elif kind == "MatrixSelector":
        walk(node.vector_selector, reads)
    elif kind == "AggregateExpr":
        reads.labels |= set(node.modifier.labels) if node.modifier else set()
        walk(node.expr, reads)
        if node.param is not None:
            walk(node.param, reads)
    elif kind == "BinaryExpr":
        modifier = node.modifier
        if modifier is not None:
            reads.labels |= set(modifier.matching.labels) if modifier.matching else set()
            reads.labels |= set(modifier.group_labels or [])
        walk(node.lhs, reads)
        walk(node.rhs, reads)
    elif kind == "Call":
        for argument in node.args:
            walk(argument, reads)
    elif kind in {"ParenExpr", "UnaryExpr", "SubqueryExpr"}:
        walk(node.expr, reads)


def reads_of(expr: str) -> Reads:
    reads = Reads()
    walk(promql_parser.parse(expr), reads)
    return reads


def all_expressions() -> dict[str, str]:
    """Every PromQL expression of the rule file and the dashboards, by where it is used."""
    found = {
        f"rule {rule.name}/{rule.severity or 'record'}#{i}": rule.expr
        for i, rule in enumerate(load_rules(REPO_ROOT / RULES_FILE))
    }
    for name in DASHBOARDS:
        document = json.loads((REPO_ROOT / OUTPUT_DIR / f"{name}.json").read_text())
        for index, expr in enumerate(expressions(document)):
            found[f"dashboard {name}#{index}"] = as_plain_promql(expr)
    return found


def recorded_labels() -> dict[str, set[str]]:
    """Each recorded series with the labels its expression can produce."""
    produced = {}
    for rule in load_rules(REPO_ROOT / RULES_FILE):
        if not rule.is_alert:
            reads = reads_of(rule.expr)
            produced[rule.name] = reads.labels | {
                name for _, ms in reads.selectors for name, _, _ in ms
            }
    return produced


# ---------------------------------------------------------------------------------------------
# What the service exports


Scrape = dict[str, dict[str, set[str]]]


def parse_scrape(text: str) -> Scrape:
    """Sample name -> label name -> every value seen."""
    series: Scrape = defaultdict(lambda: defaultdict(set))
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = series[sample.name]
            for name, value in sample.labels.items():
                labels[name].add(value)
    return series


def problems_of(where: str, expr: str, scrape: Scrape, records: dict[str, set[str]]) -> list[str]:
    reads = reads_of(expr)
    problems = []
    available = set(TARGET_LABELS)
    for name, matchers in reads.selectors:
        if name in records:
            available |= records[name]
            continue
        if name in KUBERNETES_SERIES:
            known = KUBERNETES_SERIES[name]
            available |= known
            problems += [
                f"{where}: {name} has no label {label!r}"
                for label, _, _ in matchers
                if label not in known
            ]
            continue
        if name not in scrape:
            problems.append(f"{where}: series {name} is not exported by the service")
            continue
        labels = scrape[name]
        available |= set(labels)
        problems += value_problems(where, name, matchers, labels)
    problems += [
        f"{where}: grouping label {label!r} exists on no series it reads"
        for label in sorted(reads.labels - available)
    ]
    return problems


def value_problems(
    where: str, name: str, matchers: list[tuple[str, str, str]], labels: dict[str, set[str]]
) -> list[str]:
    problems = []
    for label, op, value in matchers:
        if label not in labels:
            problems.append(f"{where}: {name} has no label {label!r}")
        elif op == "Equal" and value not in labels[label]:
            problems.append(
                f"{where}: {name}{{{label}={value!r}}} never appears (seen {sorted(labels[label])})"
            )
        elif op == "Re" and not any(re.fullmatch(value, seen) for seen in labels[label]):
            seen = sorted(labels[label])
            problems.append(f"{where}: {name}{{{label}=~{value!r}}} matches nothing (seen {seen})")
    return problems


# ---------------------------------------------------------------------------------------------
# The running service and its traffic


def wait_for(check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.25)


@dataclass
class Service:
    api: httpx.Client
    metrics_url: str

    def scrape(self) -> str:
        response = httpx.get(self.metrics_url, timeout=5)
        response.raise_for_status()
        return response.text

    def value(self, sample: str, **labels: str) -> float:
        total = 0.0
        for family in text_string_to_metric_families(self.scrape()):
            for found in family.samples:
                if found.name == sample and labels.items() <= found.labels.items():
                    total += found.value
        return total


@pytest.fixture(scope="module")
def service(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Service, list[LocalServer]]]:
    folder = tmp_path_factory.mktemp("metrics-service")
    metrics_port = free_port()
    with ExitStack() as stack:
        sinks = [stack.enter_context(tak_sink(folder)) for _ in range(2)]
        destinations = [
            f"tcp://127.0.0.1:{sinks[0].port}",
            f"tcp://127.0.0.1:{sinks[1].port}?ack=none",
        ]
        settings = {
            "DETECTION_API_METRICS_PORT": str(metrics_port),
            "DETECTION_API_TAK_DESTINATIONS": ",".join(destinations),
            "DETECTION_API_OUTBOX_CAP": str(OUTBOX_CAP),
            "DETECTION_API_STALE_AFTER_SECONDS": "3",
            "DETECTION_API_DELIVERY_BACKOFF_MAX_SECONDS": "1",
            "DETECTION_API_DELIVERY_SEND_TIMEOUT_SECONDS": "2",
            # Queue gauges refresh faster than the 3 s stale time drains the queue.
            "DETECTION_API_OUTBOX_STATS_SECONDS": "0.5",
        }
        server = stack.enter_context(detection_api(folder, settings))
        api = stack.enter_context(httpx.Client(base_url=server.url, headers={"X-API-Key": DEV_KEY}))
        yield Service(api, f"http://127.0.0.1:{metrics_port}/metrics"), sinks


def drive_healthy_traffic(service: Service) -> None:
    api = service.api
    stored = sample_detection()
    assert api.post("/v1/detections", json=stored).status_code == 201
    assert (
        api.post(
            "/v1/detections", json=sample_detection(uncertainty={"horizontal_m": 2000.0})
        ).status_code
        == 201
    )
    batch = {
        "items": [
            sample_detection(),
            sample_detection(object={"class": "dragon", "confidence": 0.5}),
        ]
    }
    assert api.post("/v1/detections:batch", json=batch).status_code in {200, 201, 207}
    assert (
        api.post(
            "/v1/detections", json=sample_detection(object={"class": "dragon", "confidence": 0.5})
        ).status_code
        == 422
    )
    assert api.get(f"/v1/detections/{stored['detection_id']}").status_code == 200
    assert api.get("/v1/detections", params={"limit": 5}).status_code == 200
    assert httpx.post(f"{api.base_url}/v1/detections", json=sample_detection()).status_code == 401
    assert api.get("/no/such/route").status_code == 404
    assert api.get("/livez").status_code == 200


def drive_outage(service: Service, sinks: list[LocalServer]) -> None:
    for sink in sinks:
        sink.stop()
    statuses = []
    for _ in range(OUTBOX_CAP * 2):
        statuses.append(service.api.post("/v1/detections", json=sample_detection()).status_code)
        if 503 in statuses:
            break
        time.sleep(0.05)
    assert 503 in statuses, f"the outbox never reached its cap of {OUTBOX_CAP}: {statuses}"


@pytest.fixture(scope="module")
def scrape(service: tuple[Service, list[LocalServer]]) -> Scrape:
    running, sinks = service
    drive_healthy_traffic(running)
    wait_for(
        lambda: running.value("detection_api_tak_events_sent_total") >= 6,
        "delivery to both TAK peers",
    )
    wait_for(lambda: running.value("detection_api_tak_connected") == 2, "both TAK links connected")
    drive_outage(running, sinks)
    # The queue holds the refused detections until they go stale (3 s), then drops them.
    wait_for(lambda: running.value("detection_api_outbox_depth") > 0, "a pending outbox")
    wait_for(lambda: running.value("detection_api_tak_send_failures_total") > 0, "failed sends")
    wait_for(
        lambda: running.value("detection_api_tak_events_expired_total") > 0, "stale events dropped"
    )
    return parse_scrape(running.scrape())


# ---------------------------------------------------------------------------------------------
# The checks


def test_every_series_read_by_rules_and_dashboards_exists(scrape: Scrape) -> None:
    records = recorded_labels()
    problems = []
    for where, expr in all_expressions().items():
        problems += problems_of(where, expr, scrape, records)
    assert not problems, "\n".join(problems)


def test_the_outage_is_visible_in_the_scrape(
    service: tuple[Service, list[LocalServer]], scrape: Scrape
) -> None:
    running, _ = service
    assert running.value("detection_api_tak_connected") == 0
    assert running.value("detection_api_rejections_total", reason="outbox_full") > 0
    assert running.value("detection_api_delivery_active") == 1


def test_a_rule_reading_a_missing_series_is_reported(scrape: Scrape) -> None:
    problems = problems_of(
        "rule Made/up", "sum(rate(detection_api_made_up_total[5m]))", scrape, recorded_labels()
    )
    assert problems == [
        "rule Made/up: series detection_api_made_up_total is not exported by the service"
    ]


def test_a_label_or_value_that_never_appears_is_reported(scrape: Scrape) -> None:
    selector = 'detection_api_detections_ingested_total{flag="PURPLE",colour="x"}'
    expr = f"sum by (pilot) (rate({selector}[5m]))"
    problems = problems_of("rule Made/up", expr, scrape, recorded_labels())
    assert any("flag='PURPLE'" in problem for problem in problems), problems
    assert any("no label 'colour'" in problem for problem in problems), problems
    assert any("grouping label 'pilot'" in problem for problem in problems), problems
