"""Checklist "Observability": ServiceMonitor and dashboards in the rendered chart, the Prometheus
rules the chart ships, the monitoring stack's values, CloudWatch in Terraform."""

from __future__ import annotations

import json

from detection_ops.deploy.manifests import of_kind
from detection_ops.readiness.model import check, require
from detection_ops.readiness.sources import Sources

SECTION = "Observability"
RULES = "charts/detection-api/files/prometheus-rules.yaml"
ALERT_TESTS = "charts/tests/test_alerts.py::test_every_alert_fires_and_stays_silent_in_unit_tests"
MONITORING = "charts/monitoring"
MONITORING_TESTS = "charts/tests/test_monitoring.py"


def _alerts_matching(s: Sources, *needles: str) -> list[str]:
    """Names of the alerts whose expression mentions any of `needles` (case-insensitive)."""
    return sorted({a.name for a in s.alerts() if any(n in a.expr.lower() for n in needles)})


def _covers(s: Sources, concerns: dict[str, tuple[str, ...]]) -> str:
    found = []
    for concern, needles in concerns.items():
        names = _alerts_matching(s, *needles)
        require(names, f"{RULES}: no alert on {concern} (an expr using {' or '.join(needles)})")
        found.append(f"{concern}: {min(names, key=len)}")  # the most specific alert
    return f"{RULES}: " + ", ".join(found)


@check(
    SECTION,
    "Prometheus Operator with ServiceMonitor",
    "charts/tests/test_checklist.py::test_prometheus_operator_service_monitor_scrapes_metrics_port_only",
)
def service_monitor(s: Sources) -> str:
    monitors = of_kind(s.render("production"), "ServiceMonitor")
    require(len(monitors) == 1, f"rendered production: {len(monitors)} ServiceMonitors")
    ports = [e.get("port") for e in monitors[0]["spec"]["endpoints"]]
    require(ports == ["metrics"], f"ServiceMonitor scrapes {ports}, not the metrics port")
    return "templates/servicemonitor.yaml: the metrics port, rendered for production"


DASHBOARD_CONCERNS = {
    "SLO": ("slo", "error budget", "burn"),
    "RED rate": ("rate", "requests", "throughput"),
    "RED errors": ("error",),
    "RED duration": ("latency", "duration"),
    "business": ("outbox", "tak", "ce90", "detections"),
}


def _titles(panel: dict[str, object]) -> list[str]:
    titles = [str(panel.get("title", ""))]
    for child in panel.get("panels", []) or []:  # type: ignore[attr-defined]
        titles += _titles(child)
    return titles


@check(
    SECTION,
    "Grafana dashboard: SLO, RED metrics, business metrics",
    f"{MONITORING_TESTS}::test_grafana_sidecar_loads_the_chart_dashboards",
)
def dashboards(s: Sources) -> str:
    files = sorted((s.root / "charts/detection-api/files/dashboards").glob("*.json"))
    require(files, "charts/detection-api/files/dashboards: no dashboard JSON")
    titles = " | ".join(
        title.lower()
        for path in files
        for panel in json.loads(path.read_text()).get("panels", [])
        for title in _titles(panel)
    )
    for concern, needles in DASHBOARD_CONCERNS.items():
        require(
            any(n in titles for n in needles),
            f"dashboards: no {concern} panel ({'/'.join(needles)})",
        )
    maps = [
        m
        for m in of_kind(s.render("production"), "ConfigMap")
        if m["metadata"].get("labels", {}).get("grafana_dashboard")
    ]
    require(maps, "rendered production: no ConfigMap labelled grafana_dashboard")
    names = ", ".join(path.name for path in files)
    return (
        f"charts/detection-api/files/dashboards ({names}): SLO, RED, business panels; "
        "grafana_dashboard ConfigMap"
    )


@check(
    SECTION,
    "Loki for log aggregation with structured JSON parsing",
    f"{MONITORING_TESTS}::test_alloy_turns_json_fields_into_three_low_cardinality_labels",
)
def loki(s: Sources) -> str:
    folder = s.path(MONITORING)
    loki_values = sorted(path for path in folder.glob("*.yaml") if "loki" in path.name)
    require(loki_values, f"{MONITORING}: no Loki values file")
    parsers = [
        path for path in folder.rglob("*") if path.is_file() and "stage.json" in path.read_text()
    ]
    require(parsers, f"{MONITORING}: no log pipeline parsing JSON (Alloy stage.json)")
    return f"{loki_values[0].relative_to(s.root)}; JSON parsing in {parsers[0].relative_to(s.root)}"


@check(
    SECTION,
    "Alertmanager with severity-based routing",
    f"{MONITORING_TESTS}::test_each_severity_reaches_its_receiver",
)
def alertmanager(s: Sources) -> str:
    relative = f"{MONITORING}/alertmanager-values.yaml"
    route = s.yaml(relative)["alertmanager"]["config"]["route"]
    receivers = {}
    for branch in route.get("routes", []):
        for matcher in branch.get("matchers", []):
            if matcher.startswith("severity"):
                receivers[matcher] = branch["receiver"]
    severities = {severity for rule in s.alerts() for severity in [rule.severity]}
    for severity in severities:
        require(
            any(severity in m for m in receivers), f"{relative}: no route for severity {severity}"
        )
    require(len(set(receivers.values())) >= 2, f"{relative}: every severity goes to one receiver")
    return f"{relative} route.routes: " + ", ".join(f"{m} -> {r}" for m, r in receivers.items())


@check(SECTION, "SLO-based alerting (error budget burn rate)", ALERT_TESTS)
def slo_burn_rate(s: Sources) -> str:
    burns = [a for a in s.alerts() if "burn" in a.name.lower()]
    require(burns, f"{RULES}: no burn-rate alert")
    severities = {a.severity for a in burns}
    require(
        {"page", "ticket"} <= severities, f"{RULES}: burn-rate alerts only at {sorted(severities)}"
    )
    # Rules in a file alert nobody: production must ship them to Prometheus.
    shipped = of_kind(s.render("production"), "PrometheusRule")
    require(shipped, "rendered production: no PrometheusRule (monitoring.prometheusRule.enabled)")
    slos = sorted({a.name for a in burns})
    return (
        f"{RULES}: multiwindow burn-rate alerts (page + ticket) for {', '.join(slos)}; "
        "shipped as the production PrometheusRule"
    )


@check(SECTION, "Business logic alerts (queue size, TAK health, accuracy)", ALERT_TESTS)
def business_alerts(s: Sources) -> str:
    return _covers(
        s,
        {"queue size": ("outbox_depth",), "TAK health": ("tak_connected",), "accuracy": ("ce90",)},
    )


@check(SECTION, "Infrastructure alerts (CPU, memory, disk, pod health)", ALERT_TESTS)
def infrastructure_alerts(s: Sources) -> str:
    return _covers(
        s,
        {
            "CPU": ("container_cpu",),
            "memory": ("container_memory",),
            "disk": ("kubelet_volume_stats",),
            "pod health": ("kube_pod_container_status_ready", "kube_pod_container_status_restarts"),
        },
    )


@check(
    SECTION,
    "CloudWatch for EKS control plane and VPC flow logs",
    "infra/tests/test_checklist_storage_and_pipelines.py::test_cloudwatch_for_eks_control_plane_and_vpc_flow_logs",
)
def cloudwatch_logs(s: Sources) -> str:
    logs = set(s.call("cluster", "eks").get("enabled_log_types", []))
    wanted = {"api", "audit", "authenticator", "controllerManager", "scheduler"}
    require(wanted <= logs, f"module.eks enabled_log_types lacks {sorted(wanted - logs)}")
    vpc = s.call("network", "vpc")
    require(
        vpc.get("flow_log_destination_type") == "cloud-watch-logs", "flow logs not to CloudWatch"
    )
    return "module.eks enabled_log_types (all 5); module.vpc flow logs -> cloud-watch-logs"
