"""`inv demo`: the whole path on one laptop, live.

It starts the service (SQLite under var/demo/), a local TAK peer that prints every event it
receives, and a synthetic drone loitering over four targets that POSTs what it sees for a while.
Then it shows the delivered detections with their accuracy (CE90, flag, category) next to the
true error, and how many events the TAK peer received. Ctrl-C stops everything cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pymap3d
from rich.console import Console
from rich.table import Table

from detection_api.taksink import ReceivedEvent, TakSink
from detection_ops.bench import servers
from detection_ops.demo.flight import Flight, Loiter, Sighting, targets_around

DELIVERY_WAIT_SECONDS = 30.0


@dataclass
class Posted:
    sighting: Sighting
    answer: dict[str, Any]


@dataclass
class DemoResult:
    posted: list[Posted] = field(default_factory=list)
    final: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> GET answer at the end
    received: int = 0

    @property
    def delivered(self) -> list[Posted]:
        return [
            p for p in self.posted
            if self.final.get(p.answer["detection_id"], {}).get("delivery", {}).get("state")
            == "delivered"
        ]  # fmt: skip


def tak_printer(console: Console) -> Callable[[ReceivedEvent], None]:
    def show(event: ReceivedEvent) -> None:
        point = ET.fromstring(event.raw).find("point")  # noqa: S314 - our own events
        where = ""
        if point is not None:
            lat, lon = float(point.get("lat", "nan")), float(point.get("lon", "nan"))
            where = f"{lat:.5f},{lon:.5f} ce {float(point.get('ce', 'nan')):.1f} m"
        console.print(
            f"[dim]{event.received_at:%H:%M:%S}[/dim] TAK <- [bold]{event.type}[/bold] {where} "
            f"[dim]{event.uid[-8:]}[/dim]",
            highlight=False,
        )

    return show


async def fly(
    client: httpx.AsyncClient, flight: Flight, seconds: float, step: float, result: DemoResult
) -> None:
    """POST every sighting of each step, one step every `step` seconds of real time."""
    start = time.monotonic()
    while (elapsed := time.monotonic() - start) < seconds:
        for sighting in flight.sightings(elapsed, datetime.now(UTC)):
            answer = await client.post("/v1/detections", json=sighting.body)
            answer.raise_for_status()
            result.posted.append(Posted(sighting, answer.json()))
        await asyncio.sleep(max(0.0, step - (time.monotonic() - start - elapsed)))


async def settle(client: httpx.AsyncClient, result: DemoResult, timeout: float) -> None:
    """Wait until every located detection has left the queue; keep each one's final answer."""
    deadline = time.monotonic() + timeout
    pending = [p.answer["detection_id"] for p in result.posted]
    while pending and time.monotonic() < deadline:
        for detection_id in list(pending):
            answer = (await client.get(f"/v1/detections/{detection_id}")).json()
            result.final[detection_id] = answer
            if answer["delivery"]["state"] != "queued":
                pending.remove(detection_id)
        if pending:
            await asyncio.sleep(0.2)


async def demo(
    console: Console, directory: Path, seconds: float, step: float, port: int
) -> DemoResult:
    directory.mkdir(parents=True, exist_ok=True)
    plan = Loiter()
    flight = Flight(plan, targets_around(plan.centre_lat, plan.centre_lon))
    result = DemoResult()
    sink = TakSink(on_event=tak_printer(console))
    await sink.start()
    server = servers.service(
        servers.sqlite_url(directory, "demo.db"),
        directory,
        tak_url=sink.url,
        port=port or None,
        log_name="service.log",
    )
    try:
        await asyncio.to_thread(server.start)
        console.print(f"service on {server.url} (log {server.log_path}); TAK peer on {sink.url}")
        async with httpx.AsyncClient(base_url=server.url, headers=servers.AUTH) as client:
            await fly(client, flight, seconds, step, result)
            await settle(client, result, DELIVERY_WAIT_SECONDS)
    finally:
        server.stop()
        await sink.stop()
        result.received = len(sink.events)
    return result


def error_m(posted: Posted, answer: dict[str, Any]) -> float | None:
    """Horizontal distance from the reported location to the truth."""
    location, target = answer.get("location"), posted.sighting.target
    if not location:
        return None
    east, north, _ = pymap3d.geodetic2enu(
        location["lat"], location["lon"], location["hae"], target.lat, target.lon, target.hae
    )
    return float((east**2 + north**2) ** 0.5)


def summary(result: DemoResult, show: int) -> Table:
    view = Table(
        title=f"Delivered detections (last {show} of {len(result.delivered)})",
        caption="error m: horizontal distance from the reported location to the true target",
    )
    for column in ("captured", "target", "class", "CE90 m", "error m", "flag", "category"):
        view.add_column(column, justify="right")
    for posted in result.delivered[-show:]:
        answer = result.final[posted.answer["detection_id"]]
        accuracy, error = answer["accuracy"], error_m(posted, answer)
        view.add_row(
            answer["captured_at"][11:19],
            posted.sighting.target.name,
            answer["object"]["class"],
            f"{accuracy['ce90_m']:.1f}" if accuracy["ce90_m"] is not None else "-",
            f"{error:.1f}" if error is not None else "-",
            accuracy["flag"],
            accuracy["category"] or "-",
        )
    return view


def report(console: Console, result: DemoResult, show: int) -> None:
    console.print(summary(result, show))
    within = [
        p for p in result.delivered
        if (e := error_m(p, result.final[p.answer["detection_id"]])) is not None
        and e <= result.final[p.answer["detection_id"]]["accuracy"]["ce90_m"]
    ]  # fmt: skip
    delivered = len(result.delivered)
    console.print(
        f"posted {len(result.posted)}, delivered {delivered}, true error within CE90: "
        f"{len(within)}/{delivered}; the TAK peer received {result.received} events"
    )


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m detection_ops.demo", description=__doc__)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of flight")
    parser.add_argument("--step", type=float, default=0.5, help="seconds between camera frames")
    parser.add_argument("--dir", type=Path, default=Path("var/demo"), help="SQLite file and logs")
    parser.add_argument("--port", type=int, default=0, help="HTTP port (0 picks a free one)")
    parser.add_argument("--show", type=int, default=15, help="rows of the final table")
    arguments = parser.parse_args(argv)
    if arguments.duration <= 0 or arguments.step <= 0:
        parser.error("--duration and --step must be positive")
    return arguments


def main(argv: Sequence[str] | None = None, console: Console | None = None) -> int:
    arguments = parse(argv)
    console = console or Console()
    try:
        result = asyncio.run(
            demo(console, arguments.dir, arguments.duration, arguments.step, arguments.port)
        )
    except KeyboardInterrupt:
        console.print("interrupted: service and TAK peer stopped")
        return 130
    report(console, result, arguments.show)
    return 0
