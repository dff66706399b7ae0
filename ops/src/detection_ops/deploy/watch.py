"""Watch the new colour's SLIs in Prometheus after a switch: error ratio and p99 latency.

The queries select the new colour's pods by name (`<fullname>-<colour>-...`), so traffic still
served by the old colour's pods (draining connections) does not hide a bad release.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from rich.progress import BarColumn, Progress, TimeRemainingColumn

from detection_ops.deploy.steps import PROGRESS_CONSOLE, OperatorError


@dataclass(frozen=True)
class SloThresholds:
    max_error_ratio: float = 0.01  # 5xx share of requests
    max_p99_seconds: float = 0.5
    window: str = "2m"  # rate() range of the queries


@dataclass(frozen=True)
class Breach:
    sli: str
    value: float
    limit: float

    def __str__(self) -> str:
        return f"{self.sli} {self.value:.4g} above its limit {self.limit:.4g}"


def queries(namespace: str, pods: str, window: str) -> dict[str, str]:
    selector = f'namespace="{namespace}",pod=~"{pods}"'
    requests = f"detection_api_http_requests_total{{{selector}}}"
    errors = f'detection_api_http_requests_total{{{selector},status=~"5.."}}'
    buckets = f"detection_api_http_request_duration_seconds_bucket{{{selector}}}"
    return {
        "error_ratio": f"sum(rate({errors}[{window}])) / sum(rate({requests}[{window}]))",
        "p99_latency_seconds": f"histogram_quantile(0.99, sum by (le) (rate({buckets}[{window}])))",
    }


class Prometheus:
    def __init__(self, url: str, http: httpx.Client | None = None) -> None:
        self.url = url.rstrip("/")
        self.http = http or httpx.Client(timeout=10)

    def scalar(self, query: str) -> float | None:
        """The single value of an instant query; None when there is no data (no traffic yet)."""
        try:
            answer = self.http.get(f"{self.url}/api/v1/query", params={"query": query})
            answer.raise_for_status()
            body = answer.json()
        except (httpx.HTTPError, ValueError) as error:
            raise OperatorError(
                f"Prometheus at {self.url} cannot answer: {error}",
                "check --prometheus-url; without SLIs the release cannot be watched",
            ) from error
        if body.get("status") != "success":
            raise OperatorError(
                f"Prometheus query failed: {body}", "check the query and Prometheus"
            )
        result = body["data"]["result"]
        if not result:
            return None
        value = float(result[0]["value"][1])
        return None if value != value else value  # NaN: 0/0 when there was no traffic  # noqa: PLR0124


def check(
    prometheus: Prometheus, sli_queries: dict[str, str], limits: SloThresholds
) -> Breach | None:
    bounds = {"error_ratio": limits.max_error_ratio, "p99_latency_seconds": limits.max_p99_seconds}
    for sli, query in sli_queries.items():
        value = prometheus.scalar(query)
        if value is not None and value > bounds[sli]:
            return Breach(sli, value, bounds[sli])
    return None


def watch(
    prometheus: Prometheus,
    sli_queries: dict[str, str],
    limits: SloThresholds,
    *,
    duration: float,
    interval: float,
    sleep: Callable[[float], None] = time.sleep,
) -> Breach | None:
    """Check the SLIs every `interval` seconds for `duration`; the first breach ends the watch."""
    deadline = time.monotonic() + duration
    with Progress(
        "watching SLIs",
        BarColumn(),
        TimeRemainingColumn(),
        transient=True,
        console=PROGRESS_CONSOLE,
    ) as progress:
        task = progress.add_task("watch", total=duration)
        while True:
            breach = check(prometheus, sli_queries, limits)
            if breach is not None:
                return breach
            remaining = deadline - time.monotonic()
            progress.update(task, completed=duration - max(remaining, 0))
            if remaining <= 0:
                return None
            sleep(min(interval, remaining))
