"""TAK delivery figures of the real service over loopback: drain rate after an outage, and
accepted -> confirmed latency while TAK is up.

Drain: N detections are queued while the TAK peer is down; the peer starts; the clock runs
until the service counts all N as confirmed (a pong after each batch). The baseline replays the
very same CoT bytes over one plain TCP connection to a fresh peer (no database, no
confirmation): the ratio is the share of the loopback pipe the durable path achieves.
The worker's backoff cap is 0.2 s here so that the figure measures the drain, not the wait.

Latency: detections are POSTed at a fixed offered rate (open loop) while the peer is up;
POST sent -> arrived at the peer is timed per detection (an upper bound of accepted -> arrived),
and accepted -> confirmed comes from the service's own histogram.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np
from prometheus_client.parser import text_string_to_metric_families
from rich import box
from rich.console import Console
from rich.table import Table

from detection_api.taksink import TakSink
from detection_ops.bench import servers
from detection_ops.bench.load import detection
from detection_ops.localserver import free_port

DRAIN_TARGET_PER_SECOND, LATENCY_TARGET_P95_SECONDS, OFFERED_RATE = 2_000.0, 1.0, 200.0
QUEUE_BATCH = 500
SHORT = {"postgresql": "pg"}  # table labels that fit 80 columns
WAIT_SECONDS = 300.0
CLIENT_TIMEOUT_SECONDS = 120.0  # a batch of 500 on a busy shared machine can take seconds
FAST_BACKOFF = {"DETECTION_API_DELIVERY_BACKOFF_MAX_SECONDS": "0.2"}


@dataclass(frozen=True)
class Drain:
    store: str
    events: int
    seconds_to_confirmed: float  # peer started -> service confirmed all
    seconds_first_to_last: float  # first -> last arrival at the peer
    baseline_per_second: float  # the same bytes over one plain TCP connection
    duplicates: int
    cpu_ms: float | None  # the service's CPU time per event while draining
    load_average: str

    @property
    def per_second(self) -> float:
        return self.events / self.seconds_to_confirmed

    @property
    def ratio(self) -> float:
        return self.per_second / self.baseline_per_second


@dataclass(frozen=True)
class Latency:
    store: str
    offered_per_second: float
    achieved_per_second: float
    events: int
    arrival_p50: float  # POST sent -> arrived at the peer, seconds
    arrival_p95: float
    confirmed_p50: float  # accepted -> confirmed, the service's histogram (interpolated)
    confirmed_p95: float
    load_average: str


class Metrics:
    """The service's Prometheus endpoint, read from the outside."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}/metrics"

    async def samples(
        self, client: httpx.AsyncClient
    ) -> dict[str, list[tuple[dict[str, str], float]]]:
        text = (await client.get(self.url)).text
        found: dict[str, list[tuple[dict[str, str], float]]] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                found.setdefault(sample.name, []).append((sample.labels, sample.value))
        return found

    async def wait_sent(self, client: httpx.AsyncClient, count: int, timeout: float) -> None:
        async with asyncio.timeout(timeout):
            while True:
                sent = (await self.samples(client)).get("detection_api_tak_events_sent_total", [])
                if sum(value for _, value in sent) >= count:
                    return
                await asyncio.sleep(0.1)  # scraping costs the service CPU too


def histogram_quantile(quantile: float, buckets: Sequence[tuple[float, float]]) -> float:
    """Prometheus' estimate: linear interpolation inside the bucket holding the quantile.

    `buckets` are (upper bound, cumulative count) pairs in increasing order, ending with +Inf.
    """
    total = buckets[-1][1]
    if total == 0:
        return float("nan")
    rank, lower, below = quantile * total, 0.0, 0.0
    for upper, cumulative in buckets:
        if cumulative >= rank:
            if upper == float("inf"):
                return lower
            return lower + (upper - lower) * (rank - below) / (cumulative - below)
        lower, below = upper, cumulative
    return lower


def latency_buckets(
    samples: dict[str, list[tuple[dict[str, str], float]]],
) -> list[tuple[float, float]]:
    rows = samples.get("detection_api_delivery_latency_seconds_bucket", [])
    return sorted((float(labels["le"]), value) for labels, value in rows)


async def queue(client: httpx.AsyncClient, count: int) -> None:
    """Queue `count` detections through the batch endpoint."""
    for start in range(0, count, QUEUE_BATCH):
        items = [detection() for _ in range(min(QUEUE_BATCH, count - start))]
        answer = await client.post("/v1/detections:batch", json={"items": items})
        answer.raise_for_status()
        refused = [r for r in answer.json()["results"] if r["status"] != 201]
        if refused:
            raise RuntimeError(f"{len(refused)} detections refused: {refused[0]}")


async def replay(raw: list[bytes]) -> float:
    """Events/s of the same bytes over one plain TCP connection to a fresh peer."""
    async with TakSink(offer_protobuf=False) as sink:
        _, writer = await asyncio.open_connection(sink.host, sink.port)
        start = time.perf_counter()
        writer.write(b"".join(raw))
        await writer.drain()
        await sink.wait_for_events(len(raw), WAIT_SECONDS)
        seconds = time.perf_counter() - start
        writer.close()
    return len(raw) / seconds


async def drain(store: str, workdir: Path, count: int) -> Drain:
    sink_port, metrics_port = free_port(), free_port()
    sink = TakSink(port=sink_port)  # listens only once the queue has filled
    with servers.database(store, workdir) as url:
        server = servers.service(
            url, workdir, tak_url=f"tcp://127.0.0.1:{sink_port}", metrics_port=metrics_port,
            extra_env=FAST_BACKOFF,
        )  # fmt: skip
        await asyncio.to_thread(server.start)
        try:
            async with httpx.AsyncClient(
                base_url=server.url, headers=servers.AUTH, timeout=CLIENT_TIMEOUT_SECONDS
            ) as client:
                await queue(client, count)
                started, cpu_before = time.perf_counter(), server.cpu_seconds()
                await sink.start()
                await Metrics(metrics_port).wait_sent(client, count, WAIT_SECONDS)
                confirmed, cpu_after = time.perf_counter() - started, server.cpu_seconds()
        finally:
            await sink.stop()
            server.stop()
    arrivals = [event.received_at for event in sink.events]
    raw = list({event.uid: event.raw for event in sink.events}.values())
    return Drain(
        store=store,
        events=count,
        seconds_to_confirmed=confirmed,
        seconds_first_to_last=(max(arrivals) - min(arrivals)).total_seconds(),
        baseline_per_second=await replay(raw),
        duplicates=len(sink.events) - len(raw),
        cpu_ms=None
        if cpu_before is None or cpu_after is None
        else 1e3 * (cpu_after - cpu_before) / count,
        load_average=servers.load_average(),
    )


async def offered_load(
    client: httpx.AsyncClient, rate: float, seconds: float
) -> tuple[dict[str, datetime], float]:
    """POST at a fixed rate (open loop); cot uid -> when its POST was sent, and the achieved rate.

    The send time, not the 201's arrival: the peer may read the event before this process has
    handled the 201 (both share one event loop), so only the send time is a safe lower bound.
    """
    accepted: dict[str, datetime] = {}
    body = detection()

    async def post() -> None:
        sent = datetime.now(UTC)
        answer = await client.post("/v1/detections", json={**body, "captured_at": _now_rfc3339()})
        answer.raise_for_status()
        accepted[answer.json()["cot_uid"]] = sent

    total = int(rate * seconds)
    start = time.perf_counter()
    tasks = []
    for index in range(total):
        await asyncio.sleep(max(0.0, start + index / rate - time.perf_counter()))
        tasks.append(asyncio.create_task(post()))
    await asyncio.gather(*tasks)
    return accepted, total / (time.perf_counter() - start)


async def latency(store: str, workdir: Path, seconds: float, rate: float = OFFERED_RATE) -> Latency:
    metrics_port = free_port()
    async with TakSink() as sink:
        with servers.database(store, workdir) as url:
            server = servers.service(url, workdir, tak_url=sink.url, metrics_port=metrics_port)
            await asyncio.to_thread(server.start)
            try:
                limits = httpx.Limits(max_connections=64)
                async with httpx.AsyncClient(
                    base_url=server.url,
                    headers=servers.AUTH,
                    limits=limits,
                    timeout=CLIENT_TIMEOUT_SECONDS,
                ) as client:
                    accepted, achieved = await offered_load(client, rate, seconds)
                    metrics = Metrics(metrics_port)
                    await metrics.wait_sent(client, len(accepted), WAIT_SECONDS)
                    buckets = latency_buckets(await metrics.samples(client))
            finally:
                server.stop()
        arrived = {event.uid: event.received_at for event in sink.events}
    delays = [(arrived[uid] - moment).total_seconds() for uid, moment in accepted.items()]
    arrival_p50, arrival_p95 = np.percentile(delays, [50, 95])
    return Latency(
        store=store,
        offered_per_second=rate,
        achieved_per_second=achieved,
        events=len(accepted),
        arrival_p50=float(arrival_p50),
        arrival_p95=float(arrival_p95),
        confirmed_p50=histogram_quantile(0.5, buckets),
        confirmed_p95=histogram_quantile(0.95, buckets),
        load_average=servers.load_average(),
    )


def _now_rfc3339() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _table(title: str, caption: str, columns: Sequence[str]) -> Table:
    view = Table(
        title=title, caption=caption, box=box.SIMPLE_HEAD, collapse_padding=True, pad_edge=False
    )
    for column in columns:
        view.add_column(column, justify="right")
    return view


def drain_table(results: list[Drain]) -> Table:
    view = _table(
        f"TAK drain after an outage: {results[0].events if results else 0:,} events queued with "
        "the peer down, then the peer starts",
        f"target >= {DRAIN_TARGET_PER_SECOND:,.0f} events/s from peer start to all confirmed. "
        "spread: first -> last arrival. raw: the same bytes over one plain TCP connection to a "
        "fresh peer. CPU ms: the service's CPU time per event while draining. "
        "load: 1-min load average at the time.",
        ("store", "s", "events/s", "spread s", "raw/s", "x raw", "CPU ms", "dupes",
         "target", "load"),
    )  # fmt: skip
    for d in results:
        view.add_row(
            SHORT.get(d.store, d.store), f"{d.seconds_to_confirmed:.2f}",
            f"{d.per_second:,.0f}", f"{d.seconds_first_to_last:.2f}",
            f"{d.baseline_per_second:,.0f}",
            f"{d.ratio:.3f}", f"{d.cpu_ms:.2f}" if d.cpu_ms is not None else "",
            str(d.duplicates),
            "met" if d.per_second >= DRAIN_TARGET_PER_SECOND else "MISSED",
            f"{float(d.load_average.split()[0]):.1f}",
        )  # fmt: skip
    return view


def latency_table(results: list[Latency]) -> Table:
    view = _table(
        "Accepted -> TAK latency at a fixed offered rate (peer up), ms",
        "rate: offered; done: achieved. arr: POST sent -> event read by the peer, "
        "per detection (ingest included). conf: the service's histogram (created -> pong "
        "after the batch), interpolated in its buckets. "
        f"target: confirmed p95 <= {LATENCY_TARGET_P95_SECONDS:.0f} s.",
        ("store", "rate/s", "done/s", "events", "arr p50", "arr p95", "conf p50", "conf p95",
         "target", "load"),
    )  # fmt: skip
    for r in results:
        view.add_row(
            SHORT.get(r.store, r.store), f"{r.offered_per_second:.0f}",
            f"{r.achieved_per_second:.0f}", f"{r.events:,}",
            f"{1e3 * r.arrival_p50:.0f}", f"{1e3 * r.arrival_p95:.0f}",
            f"{1e3 * r.confirmed_p50:.0f}", f"{1e3 * r.confirmed_p95:.0f}",
            "met" if r.confirmed_p95 <= LATENCY_TARGET_P95_SECONDS else "MISSED",
            f"{float(r.load_average.split()[0]):.1f}",
        )  # fmt: skip
    return view


async def measure(
    console: Console, *, events: int, seconds: float, stores: Sequence[str]
) -> tuple[list[Drain], list[Latency]]:
    with tempfile.TemporaryDirectory(prefix="bench-delivery-") as tmp:
        workdir = Path(tmp)
        found = servers.available_stores(stores, console.print)
        drains = [await drain(store, workdir, events) for store in found]
        latencies = [await latency(store, workdir, seconds) for store in found]
    return drains, latencies


def run(
    console: Console, quick: bool = False, *, stores: Sequence[str] = ("sqlite", "postgresql")
) -> tuple[list[Drain], list[Latency]]:
    events, seconds = (300, 2.0) if quick else (20_000, 20.0)
    drains, latencies = asyncio.run(measure(console, events=events, seconds=seconds, stores=stores))
    console.print(drain_table(drains))
    console.print(latency_table(latencies))
    return drains, latencies
