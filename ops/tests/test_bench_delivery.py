"""The delivery benchmark end to end in quick mode (real service, real TAK peer on loopback;
no timing assertions), plus the histogram quantile estimate it reads the service's figures with."""

from __future__ import annotations

import io
import math

import pytest
from rich.console import Console

from detection_ops.bench import delivery

INF = float("inf")


@pytest.mark.slow
def test_quick_run_drains_every_event_and_times_delivery_on_sqlite() -> None:
    console = Console(file=io.StringIO(), width=200)
    drains, latencies = delivery.run(console, quick=True, stores=("sqlite",))
    [drain] = drains
    assert drain.store == "sqlite"
    assert drain.events == 300
    assert drain.duplicates == 0
    assert drain.per_second > 0
    assert drain.baseline_per_second > 0
    assert drain.cpu_ms is None or drain.cpu_ms > 0
    assert 0 <= drain.seconds_first_to_last <= drain.seconds_to_confirmed
    [latency] = latencies
    assert latency.events == 400  # 200/s offered for 2 s, every one accepted and delivered
    assert 0 < latency.arrival_p50 <= latency.arrival_p95
    assert 0 < latency.confirmed_p50 <= latency.confirmed_p95
    output = console.file.getvalue()  # type: ignore[attr-defined]
    assert "TAK drain after an outage" in output
    assert "conf p95" in output


def test_histogram_quantile_interpolates_inside_the_bucket() -> None:
    buckets = [(0.1, 0.0), (0.5, 50.0), (1.0, 100.0), (INF, 100.0)]
    assert delivery.histogram_quantile(0.5, buckets) == pytest.approx(0.5)
    assert delivery.histogram_quantile(0.25, buckets) == pytest.approx(0.3)
    assert delivery.histogram_quantile(0.95, buckets) == pytest.approx(0.95)


def test_histogram_quantile_in_the_open_bucket_is_its_lower_bound() -> None:
    assert delivery.histogram_quantile(0.99, [(1.0, 10.0), (INF, 20.0)]) == 1.0


def test_histogram_quantile_of_nothing_is_nan() -> None:
    assert math.isnan(delivery.histogram_quantile(0.5, [(1.0, 0.0), (INF, 0.0)]))
