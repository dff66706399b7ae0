"""Geolocation throughput: solved rays per second against a plain numpy ray/plane baseline.

The baseline intersects the same number of rays with a flat plane in a local frame (the least
work any geolocation could do); the engine does the full job (undistortion, attitude, datum,
ECEF ray casting on the raised ellipsoid with geodetic refinement, and optionally the
uncertainty propagation). Both run in this process, so the ratio is what to compare across
machines; the absolute figures depend on the machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from rich.console import Console
from rich.table import Table

from detection_api.geo import GeoConfig, ObservationBatch, solve_batch
from detection_api.geo.synthetic import make_scenes, random_spec, select

BATCH_SIZES = (1, 100, 10_000)
#: Issue targets for batches of 10,000 on 2 cores (rays/s).
TARGETS = {False: 100_000.0, True: 20_000.0}


@dataclass(frozen=True)
class Measurement:
    batch_size: int
    with_uncertainty: bool
    seconds_per_batch: float
    rays_per_second: float
    baseline_rays_per_second: float

    @property
    def ratio(self) -> float:
        return self.rays_per_second / self.baseline_rays_per_second


def best_seconds(call: Callable[[], object], min_seconds: float) -> float:
    """Best time of one call over repeated calls lasting at least `min_seconds` (>= 3 calls)."""
    best, spent, calls = float("inf"), 0.0, 0
    while spent < min_seconds or calls < 3:
        start = time.perf_counter()
        call()
        elapsed = time.perf_counter() - start
        best, spent, calls = min(best, elapsed), spent + elapsed, calls + 1
    return best


def plane_baseline(origins: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """Plain numpy: intersect rays with the plane z = 0 of a local frame."""
    distance = -origins[:, 2] / directions[:, 2]
    result: np.ndarray = origins + distance[:, None] * directions
    return result


def workload(size: int, rng: np.random.Generator) -> ObservationBatch:
    scenes = make_scenes(random_spec(rng, 2 * size + 10))
    return select(scenes.batch, np.arange(size))


def measure(size: int, with_uncertainty: bool, min_seconds: float) -> Measurement:
    rng = np.random.default_rng(size)
    batch = workload(size, rng)
    config = GeoConfig()
    seconds = best_seconds(
        lambda: solve_batch(batch, config, with_uncertainty=with_uncertainty), min_seconds
    )
    origins = np.column_stack(
        [rng.normal(0, 100, size), rng.normal(0, 100, size), np.full(size, 120.0)]
    )
    directions = rng.normal(size=(size, 3))
    directions[:, 2] = -np.abs(directions[:, 2]) - 0.1
    baseline = best_seconds(lambda: plane_baseline(origins, directions), min_seconds)
    return Measurement(size, with_uncertainty, seconds, size / seconds, size / baseline)


def rate(per_second: float) -> str:
    """Compact rays/s: 1,234 / 56.7k / 185.7M."""
    if per_second >= 1e6:
        return f"{per_second / 1e6:.1f}M"
    if per_second >= 1e4:
        return f"{per_second / 1e3:.1f}k"
    return f"{per_second:,.0f}"


def table(measurements: list[Measurement]) -> Table:
    view = Table(title="Geolocation engine throughput (best of repeated runs)")
    columns = ("batch", "uncert.", "ms/batch", "rays/s", "numpy plane", "ratio", "10k target")
    for column in columns:
        view.add_column(column, justify="right")
    for m in measurements:
        target = ""
        if m.batch_size == BATCH_SIZES[-1]:
            goal = TARGETS[m.with_uncertainty]
            verdict = "met" if m.rays_per_second >= goal else "MISSED"
            target = f"{verdict} >={goal / 1e3:.0f}k"
        view.add_row(
            f"{m.batch_size:,}",
            "yes" if m.with_uncertainty else "no",
            f"{1e3 * m.seconds_per_batch:.3f}",
            rate(m.rays_per_second),
            rate(m.baseline_rays_per_second),
            f"{m.ratio:.4f}",
            target,
        )
    return view


def run(console: Console, quick: bool = False) -> list[Measurement]:
    """Measure every batch size with and without uncertainty and print the table."""
    min_seconds = 0.02 if quick else 1.0
    measurements = [
        measure(size, with_uncertainty, min_seconds)
        for size in BATCH_SIZES
        for with_uncertainty in (False, True)
    ]
    console.print(table(measurements))
    return measurements
