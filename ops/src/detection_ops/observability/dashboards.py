"""The Detection API's Grafana dashboards, built with grafana-foundation-sdk.

`python -m detection_ops.observability.dashboards` writes them to charts/detection-api/files/
dashboards/, where the chart ships each as a ConfigMap for the Grafana sidecar; a test regenerates
them and compares byte for byte. Queries read the series the service exports and the SLO records
of charts/detection-api/files/prometheus-rules.yaml (budgets: 0.1% and 1%, docs/slo.md).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders import dashboard, heatmap, prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import (
    DashboardCursorSync,
    DataSourceRef,
    Threshold,
    ThresholdsMode,
)
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

from detection_ops.tools.specs import find_repo_root

OUTPUT_DIR = Path("charts/detection-api/files/dashboards")
DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
INGEST = 'route=~"/v1/detections|/v1/detections:batch",method="POST"'
NOT_PROBES = 'route!~"/livez|/readyz|/startupz"'
WINDOWS = ("1h", "6h", "1d", "3d")
# The SLO budgets (allowed bad share over 30 days) of docs/slo.md.
BUDGETS = {"ingest_errors": 0.001, "ingest_slow": 0.01, "delivery_slow": 0.01}

Panel = timeseries.Panel | stat.Panel | heatmap.Panel


def query(expr: str, legend: str = "") -> prometheus.Dataquery:
    built = prometheus.Dataquery().expr(expr).datasource(DATASOURCE)
    return built.legend_format(legend) if legend else built


def thresholds(*steps: tuple[float | None, str]) -> dashboard.ThresholdsConfig:
    levels = [Threshold(value=value, color=color) for value, color in steps]
    return dashboard.ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE).steps(levels)


def graph(title: str, unit: str, *queries: prometheus.Dataquery, width: int = 12) -> Panel:
    panel = timeseries.Panel().title(title).unit(unit).datasource(DATASOURCE)
    for index, target in enumerate(queries):
        panel = panel.with_target(target.ref_id(chr(ord("A") + index)))
    return panel.height(8).span(width)


def single(
    title: str, target: prometheus.Dataquery, unit: str, steps: dashboard.ThresholdsConfig
) -> Panel:
    panel = stat.Panel().title(title).unit(unit).datasource(DATASOURCE)
    return panel.with_target(target.ref_id("A")).thresholds(steps).height(5).span(8)


def new_dashboard(title: str, uid: str, description: str) -> dashboard.Dashboard:
    variable = dashboard.DatasourceVariable("datasource").label("Prometheus").type("prometheus")
    return (
        dashboard.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["detection-api", "generated"])
        .readonly()
        .time("now-6h", "now")
        .refresh("1m")
        .tooltip(DashboardCursorSync.CROSSHAIR)
        .with_variable(variable)
    )


def budget_remaining(sli: str, label: str, by: str = "") -> Panel:
    expr = f"1 - detection_api:{sli}:ratio_rate30d / {BUDGETS[sli]}"
    steps = thresholds((None, "red"), (0.25, "orange"), (0.5, "green"))
    target = query(expr, "{{" + by + "}}" if by else "")
    return single(f"{label}: error budget left (30 d)", target, "percentunit", steps)


def burn_rates(sli: str, label: str, by: str = "") -> Panel:
    """Burn rate = bad share / budget; the alert lines are 14.4, 6, 3 and 1."""
    legend = "{{" + by + "}} " if by else ""
    targets = [
        query(f"detection_api:{sli}:ratio_rate{window} / {BUDGETS[sli]}", f"{legend}{window}")
        for window in WINDOWS
    ]
    return graph(f"{label}: burn rate", "x", *targets, width=8)


def slo_overview() -> dashboard.Dashboard:
    return (
        new_dashboard(
            "Detection API / SLO overview",
            "detection-api-slo",
            "Error budgets left and burn rates of the ingest availability, ingest latency and "
            "delivery freshness SLOs (docs/slo.md).",
        )
        .with_row(dashboard.Row("Error budget left over 30 days"))
        .with_panel(budget_remaining("ingest_errors", "Ingest availability (99.9% non-5xx)"))
        .with_panel(budget_remaining("ingest_slow", "Ingest latency (99% < 300 ms)"))
        .with_panel(
            budget_remaining("delivery_slow", "Delivery freshness (99% < 60 s)", by="destination")
        )
        .with_row(dashboard.Row("Burn rates (page at 14.4x 1h / 6x 6h, ticket at 3x 1d / 1x 3d)"))
        .with_panel(burn_rates("ingest_errors", "Ingest availability"))
        .with_panel(burn_rates("ingest_slow", "Ingest latency"))
        .with_panel(burn_rates("delivery_slow", "Delivery freshness", by="destination"))
    )


def rate(metric: str, selector: str, by: str) -> str:
    return f"sum by ({by}) (rate({metric}{{{selector}}}[$__rate_interval]))"


def latency_quantile(q: float) -> prometheus.Dataquery:
    buckets = rate("detection_api_http_request_duration_seconds_bucket", NOT_PROBES, "le, route")
    return query(f"histogram_quantile({q}, {buckets})", f"p{round(q * 100)} {{{{route}}}}")


def red_by_route() -> dashboard.Dashboard:
    requests = "detection_api_http_requests_total"
    errors = rate(requests, f'{NOT_PROBES},status=~"5.."', "route")
    return (
        new_dashboard(
            "Detection API / RED by route",
            "detection-api-red",
            "Rate, errors and duration per route template (probes excluded).",
        )
        .with_row(dashboard.Row("Rate"))
        .with_panel(
            graph(
                "Requests by route and status",
                "reqps",
                query(
                    rate(requests, NOT_PROBES, "route, method, status"),
                    "{{method}} {{route}} {{status}}",
                ),
                width=24,
            )
        )
        .with_row(dashboard.Row("Errors"))
        .with_panel(
            graph(
                "5xx share by route",
                "percentunit",
                query(f"{errors} / {rate(requests, NOT_PROBES, 'route')}", "{{route}}"),
            )
        )
        .with_panel(
            graph(
                "4xx by route and status",
                "reqps",
                query(
                    rate(requests, f'{NOT_PROBES},status=~"4.."', "route, status"),
                    "{{route}} {{status}}",
                ),
            )
        )
        .with_row(dashboard.Row("Duration"))
        .with_panel(
            graph(
                "Latency by route",
                "s",
                latency_quantile(0.5),
                latency_quantile(0.9),
                latency_quantile(0.99),
                width=24,
            )
        )
    )


def delivery_panels() -> list[Panel]:
    latency = rate("detection_api_delivery_latency_seconds_bucket", "", "le, destination")
    return [
        graph(
            "TAK connected (any pod)",
            "bool",
            query("detection_api:tak_connected:max", "{{destination}}"),
            width=8,
        ),
        graph(
            "Outbox depth",
            "short",
            query("max by (destination) (detection_api_outbox_depth)", "{{destination}}"),
            width=8,
        ),
        graph(
            "Oldest pending detection",
            "s",
            query(
                "max by (destination) (detection_api_outbox_oldest_pending_age_seconds)",
                "{{destination}}",
            ),
            width=8,
        ),
        graph(
            "Delivery latency (accepted -> confirmed)",
            "s",
            query(f"histogram_quantile(0.5, {latency})", "p50 {{destination}}"),
            query(f"histogram_quantile(0.99, {latency})", "p99 {{destination}}"),
            width=8,
        ),
        graph(
            "Delivered, failed and expired",
            "ops",
            query(
                rate("detection_api_tak_events_sent_total", "", "destination"),
                "sent {{destination}}",
            ),
            query(
                rate("detection_api_tak_send_failures_total", "", "destination, reason"),
                "failed {{destination}} {{reason}}",
            ),
            query(
                rate("detection_api_tak_events_expired_total", "", "destination, policy"),
                "expired {{destination}} {{policy}}",
            ),
            width=8,
        ),
        graph(
            "Draining pods by colour",
            "short",
            query(
                "sum by (color) (detection_api_delivery_active * on (instance) group_left (color)"
                " detection_api_build_info)",
                "{{color}}",
            ),
            query(
                "max by (destination, mode) (detection_api_tak_ack_mode) == 1",
                "ack {{destination}} {{mode}}",
            ),
            width=8,
        ),
    ]


def ce90_heatmap() -> Panel:
    buckets = query(
        "sum by (le) (increase(detection_api_ce90_meters_bucket[$__rate_interval]))", "{{le}}"
    ).format(PromQueryFormat.HEATMAP)
    return (
        heatmap.Panel()
        .title("CE90 distribution (m)")
        .datasource(DATASOURCE)
        .with_target(buckets.ref_id("A"))
        .height(8)
        .span(12)
    )


def business() -> dashboard.Dashboard:
    ingested = "detection_api_detections_ingested_total"
    board = (
        new_dashboard(
            "Detection API / Business",
            "detection-api-business",
            "What is ingested (class, accuracy flag, CE90), what is rejected, and delivery to TAK.",
        )
        .with_row(dashboard.Row("Ingest and accuracy"))
        .with_panel(
            graph(
                "Detections stored by class and flag",
                "ops",
                query(rate(ingested, "", "object_class, flag"), "{{object_class}} {{flag}}"),
            )
        )
        .with_panel(
            graph(
                "Rejections by reason",
                "ops",
                query(rate("detection_api_rejections_total", "", "reason"), "{{reason}}"),
            )
        )
        .with_panel(ce90_heatmap())
        .with_panel(
            graph(
                "RED share and median CE90 (30 min)",
                "short",
                query("detection_api:red_flag:ratio_rate30m", "RED share"),
                query("detection_api:red_flag_ratio:threshold", "RED share threshold"),
                query("detection_api:ce90_meters:median_rate30m", "median CE90 (m)"),
                query("detection_api:ce90_median_meters:threshold", "median CE90 threshold (m)"),
            )
        )
        .with_row(dashboard.Row("Delivery to TAK"))
    )
    for panel in delivery_panels():
        board = board.with_panel(panel)
    return board


DASHBOARDS: dict[str, Callable[[], dashboard.Dashboard]] = {
    "slo-overview": slo_overview,
    "red-by-route": red_by_route,
    "business": business,
}


def render(name: str) -> str:
    """One dashboard as the exact JSON text committed to the chart."""
    return JSONEncoder(sort_keys=True, indent=2).encode(DASHBOARDS[name]().build()) + "\n"


def write(root: Path) -> list[Path]:
    folder = root / OUTPUT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in DASHBOARDS:
        path = folder / f"{name}.json"
        path.write_text(render(name))
        written.append(path)
    return written


def main() -> None:
    for path in write(find_repo_root(Path.cwd())):
        sys.stdout.write(f"wrote {path}\n")


if __name__ == "__main__":
    main()


# Grafana's own interval variables, replaced by a representative value where plain PromQL is needed.
GRAFANA_INTERVALS = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}


def expressions(document: dict[str, Any]) -> list[str]:
    """Every PromQL expression of a dashboard's panels (rows' nested panels included)."""
    found = []
    for panel in document.get("panels", []):
        found += [target["expr"] for target in panel.get("targets", []) if "expr" in target]
        found += expressions({"panels": panel.get("panels", [])})
    return found


def as_plain_promql(expr: str) -> str:
    for variable, value in GRAFANA_INTERVALS.items():
        expr = expr.replace(variable, value)
    return expr
