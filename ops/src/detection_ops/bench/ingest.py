"""Ingest throughput of the real service over loopback, against a minimal FastAPI baseline.

The service runs as `detection-api serve` (one process, as `inv serve` runs it) on a fresh
SQLite file and on a fresh PostgreSQL database; a closed-loop load generator holds a fixed
number of connections open: the single endpoint at 1, 16 and 64 connections, the batch
endpoint with batches of 100 at 4 connections. The baseline app (pydantic validation + one
SQLite insert per request, same uvicorn setup) takes the same load in the same run, and each
figure is also given as a ratio to it. The floors are the issue's, for 2 cores and SQLite.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx
from rich import box
from rich.console import Console
from rich.table import Table

from detection_ops.bench import servers
from detection_ops.bench.load import (
    WRK_INSTALL,
    Generator,
    Load,
    LoadResult,
    batch_load,
    pick_generator,
    run_load,
    single_load,
)
from detection_ops.localserver import LocalServer

SINGLE_CONNECTIONS = (1, 16, 64)
BATCH_ITEMS, BATCH_CONNECTIONS = 100, 4
FLOOR_SINGLE_PER_SECOND, FLOOR_P99_MS, FLOOR_BATCH_PER_SECOND = 1_000.0, 50.0, 5_000.0
SHORT = {"postgresql": "pg", "baseline": "base"}  # table labels that fit 80 columns


@dataclass(frozen=True)
class Row:
    target: str  # "sqlite", "postgresql" or "baseline"
    result: LoadResult
    baseline: LoadResult | None  # the baseline at the same number of connections
    cpu_ms: float | None = None  # server CPU time (all threads) per stored detection

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or not self.baseline.detections_per_second:
            return None
        return self.result.detections_per_second / self.baseline.detections_per_second

    @property
    def floor(self) -> str:
        """The issue's floors apply to the service on SQLite."""
        if self.target != "sqlite":
            return ""
        load, result = self.result.load, self.result
        if load.items > 1:
            ok = result.detections_per_second >= FLOOR_BATCH_PER_SECOND and not result.errors
            return _verdict(ok)
        if load.connections == 16:
            ok = (
                result.detections_per_second >= FLOOR_SINGLE_PER_SECOND
                and result.p99_ms <= FLOOR_P99_MS
                and not result.errors
            )
            return _verdict(ok)
        if load.connections == 64:
            return _verdict(result.errors == 0)
        return ""


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def loads(seconds: float) -> list[Load]:
    singles = [single_load(connections, seconds) for connections in SINGLE_CONNECTIONS]
    return [*singles, batch_load(BATCH_ITEMS, BATCH_CONNECTIONS, seconds)]


def baseline_loads(seconds: float) -> list[Load]:
    """The baseline has no batch endpoint: it takes single requests at every connection count."""
    counts = sorted({*SINGLE_CONNECTIONS, BATCH_CONNECTIONS})
    return [single_load(connections, seconds) for connections in counts]


def measure_server(
    server: LocalServer, plan: list[Load], generator: Generator, workdir: Path
) -> list[tuple[LoadResult, float | None]]:
    """Each load's result and the server's CPU milliseconds per stored detection under it."""
    warm_up(server.url, plan)
    results = []
    for load in plan:
        before = server.cpu_seconds()
        result = run_load(server.url, load, generator, workdir)
        after = server.cpu_seconds()
        server.check_running()
        cpu_ms = None
        if before is not None and after is not None and result.stored:
            cpu_ms = 1e3 * (after - before) / result.stored
        results.append((result, cpu_ms))
    return results


def warm_up(url: str, plan: list[Load]) -> None:
    """Imports, caches and connection pools warm before anything is timed."""
    headers = {**servers.AUTH, "Content-Type": "application/json"}
    with httpx.Client(base_url=url, timeout=30.0) as client:
        for load in plan:
            for _ in range(3):
                client.post(load.path, content=load.body, headers=headers).raise_for_status()


def measure(
    console: Console,
    *,
    seconds: float,
    generator: Generator,
    stores: tuple[str, ...] = ("sqlite", "postgresql"),
) -> list[Row]:
    """Baseline first, then the service on each store; rows in table order."""
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        workdir = Path(tmp)
        with servers.baseline(workdir) as base:
            base_results = measure_server(base, baseline_loads(seconds), generator, workdir)
        by_connections = {result.load.connections: result for result, _ in base_results}
        rows = [Row("baseline", result, None, cpu) for result, cpu in base_results]
        for store in servers.available_stores(stores, console.print):
            with servers.database(store, workdir) as url, servers.service(url, workdir) as server:
                results = measure_server(server, loads(seconds), generator, workdir)
                if any(result.errors for result, _ in results):
                    console.print(f"[yellow]errors on {store}; the service log ends:[/yellow]")
                    console.print(server.tail(10), markup=False, highlight=False)
            rows += [
                Row(store, r, by_connections.get(r.load.connections), cpu) for r, cpu in results
            ]
        return rows


def table(rows: list[Row], generator: Generator) -> Table:
    view = Table(
        title=f"Ingest over loopback ({generator}, closed loop, fixed connections)",
        caption=(
            f"floors (service on SQLite): single at 16 conns >= {FLOOR_SINGLE_PER_SECOND:,.0f}/s "
            f"with p99 <= {FLOOR_P99_MS:.0f} ms; no errors at 64; batch (100 per "
            f"request) >= {FLOOR_BATCH_PER_SECOND:,.0f}/s. base: the baseline app; x base: "
            "ratio to it at the same conns. "
            "pg: PostgreSQL. CPU ms: the server's own CPU time per stored detection (all "
            "threads), which a busy shared machine does not distort. "
            "p50, p99: latency in ms. load: 1-min load average at the time."
        ),
        box=box.SIMPLE_HEAD,
        collapse_padding=True,
        pad_edge=False,
    )
    for column in ("server", "kind", "conns", "det/s", "p50", "p99", "err", "x base",
                   "CPU ms", "floor", "load"):  # fmt: skip
        view.add_column(column, justify="left" if column in {"server", "floor"} else "right")
    for row in rows:
        r = row.result
        view.add_row(
            SHORT.get(row.target, row.target),
            "single" if r.load.items == 1 else "batch",
            str(r.load.connections),
            f"{r.detections_per_second:,.0f}",
            _ms(r.p50_ms),
            _ms(r.p99_ms),
            str(r.errors),
            f"{row.ratio:.2f}" if row.ratio is not None else "",
            f"{row.cpu_ms:.2f}" if row.cpu_ms is not None else "",
            row.floor,
            f"{float(r.load_average.split()[0]):.1f}",
        )
    return view


def _ms(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def run(
    console: Console,
    quick: bool = False,
    *,
    generator: str = "auto",
    stores: tuple[str, ...] = ("sqlite", "postgresql"),
) -> list[Row]:
    chosen = pick_generator(generator)
    if chosen == "httpx":
        console.print(
            "[yellow]wrk not found: using the asyncio httpx client, which shares the cores with "
            f"the server (figures are lower bounds). Install wrk: {WRK_INSTALL}[/yellow]"
        )
    rows = measure(console, seconds=1.0 if quick else 10.0, generator=chosen, stores=stores)
    console.print(table(rows, chosen))
    for row in rows:
        if row.result.errors:
            load, kinds = row.result.load, row.result.error_kinds
            detail = ", ".join(f"{count} {kind}" for kind, count in kinds.items())
            console.print(
                f"errors, {row.target} {load.items}/request at {load.connections}: {detail}"
            )
    return rows
