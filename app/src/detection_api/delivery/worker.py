"""The delivery worker: drains the outbox to each TAK destination, in order, at least once.

Per destination, one loop: claim the oldest due rows (a lease), apply the stale policy, send
them and confirm (a TAK ping answered after the batch, or the destination's weaker rule), then
mark them delivered. Any failure gives the rows back and backs off exponentially with jitter
(stamina) up to a cap. Only the active colour drains (blue/green), read from a mounted file,
so a switch needs no restart. A crash loses nothing: leased rows return when the lease expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import stamina
import structlog
from starlette.concurrency import run_in_threadpool

from detection_api.cot import CotTypeMap, render_xml, restamp
from detection_api.delivery.destinations import Destination
from detection_api.delivery.errors import TakError
from detection_api.delivery.events import detection_event
from detection_api.delivery.transport import TakLink
from detection_api.observability.metrics import Metrics
from detection_api.settings import Settings
from detection_api.store.outbox import Claimed, Outbox

log = structlog.get_logger("detection_api.delivery")


@dataclass(frozen=True)
class DeliveryPolicy:
    batch_size: int
    lease: timedelta
    send_timeout: float
    backoff_max: float
    poll: float
    stale_after: timedelta
    stale_policy: str
    type_map: CotTypeMap

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryPolicy:
        return cls(
            batch_size=settings.delivery_batch_size,
            lease=timedelta(seconds=settings.delivery_lease_seconds),
            send_timeout=settings.delivery_send_timeout_seconds,
            backoff_max=settings.delivery_backoff_max_seconds,
            poll=settings.delivery_poll_seconds,
            stale_after=timedelta(seconds=settings.stale_after_seconds),
            stale_policy=settings.stale_policy,
            type_map=CotTypeMap(default_affiliation=settings.cot_affiliation),
        )


class ColorGate:
    """Is this pod's colour the active one? Read from a file at most once a second.

    No colour configured means no blue/green: always active. A configured colour with a
    missing or unreadable file means inactive: two colours must never both drain.
    """

    def __init__(self, color: str | None, path: Path | None, recheck_seconds: float = 1.0) -> None:
        self._color, self._path, self._recheck = color, path, recheck_seconds
        self._checked_at = float("-inf")
        self._active = color is None

    def is_active(self, now: float) -> bool:
        if self._color is None or now - self._checked_at < self._recheck:
            return self._active
        self._checked_at = now
        try:
            active = self._path is not None and self._path.read_text().strip() == self._color
        except OSError:
            active = False
        if active != self._active:
            log.info("delivery gate", color=self._color, active=active)
        self._active = active
        return active


def destinations_from(settings: Settings) -> list[Destination]:
    def secret(value: object) -> str | None:
        return value.get_secret_value() if value is not None else None  # type: ignore[attr-defined]

    return [
        Destination.from_url(
            url,
            key_password=secret(settings.tak_key_password),
            pkcs12_password=secret(settings.tak_pkcs12_password),
        )
        for url in settings.tak_destinations
    ]


class DestinationWorker:
    """Delivers one destination's queue over one link."""

    def __init__(
        self,
        destination: Destination,
        *,
        outbox: Outbox,
        policy: DeliveryPolicy,
        metrics: Metrics,
        gate: ColorGate,
        owner: str,
    ) -> None:
        self.destination, self._outbox, self._policy = destination, outbox, policy
        self._metrics, self._gate, self._owner = metrics, gate, owner
        self._link = TakLink(destination)
        self._name = destination.name
        metrics.tak_connected.labels(self._name).set(0)
        metrics.tak_ack_mode.labels(self._name, self._link.ack_mode).set(1)

    async def run(self) -> None:
        while True:
            delivered = 0
            retry = stamina.retry_context(
                on=TakError,
                attempts=None,
                timeout=None,
                wait_initial=0.5,
                wait_max=self._policy.backoff_max,
                wait_jitter=min(1.0, self._policy.backoff_max),
            )
            async for attempt in retry:
                with attempt:
                    delivered = await self.deliver_once()
            if delivered == 0:
                await asyncio.sleep(self._policy.poll)

    async def close(self) -> None:
        await self._link.close()
        self._metrics.tak_connected.labels(self._name).set(0)

    async def deliver_once(self) -> int:
        """One batch: claim, send and confirm, settle. Returns how many rows it settled."""
        if not self._gate.is_active(asyncio.get_running_loop().time()):
            await self._link.close()
            return 0
        now = datetime.now(UTC)
        rows = await run_in_threadpool(
            self._outbox.claim, self._name, self._owner, self._policy.batch_size,
            self._policy.lease, now,
        )  # fmt: skip
        if not rows:
            return 0
        sendable, late = _split_late(rows, now)
        if late and self._policy.stale_policy == "drop":
            await run_in_threadpool(self._outbox.expired, late, self._owner, now, "drop")
            self._metrics.events_expired.labels(self._name, "drop").inc(len(late))
        elif late:
            sendable = rows  # restamp: late events go out, marked late, in queue order
        if sendable:
            await self._send(sendable, now)
        return len(rows)

    async def _send(self, rows: list[Claimed], now: datetime) -> None:
        events = [self._render(row, now) for row in rows]
        try:
            if not self._link.connected:
                await self._link.connect()
                self._metrics.tak_connected.labels(self._name).set(1)
                log.info("tak connected", destination=self._name, ack=self._link.ack_mode)
            await self._link.send_confirmed(events, timeout=self._policy.send_timeout)
        except TakError as error:
            await self._failed(rows, error)
            raise
        confirmed = datetime.now(UTC)
        await run_in_threadpool(self._outbox.delivered, rows, self._owner, confirmed)
        self._metrics.events_sent.labels(self._name).inc(len(rows))
        if late := sum(1 for row in rows if row.stale_at <= now):
            self._metrics.events_expired.labels(self._name, "restamp").inc(late)
        latency = self._metrics.delivery_latency.labels(self._name)
        for row in rows:
            latency.observe((confirmed - row.created_at).total_seconds())

    def _render(self, row: Claimed, now: datetime) -> bytes:
        event = detection_event(row.payload, row.stale_at, now, self._policy.type_map)
        if row.stale_at <= now:
            event = restamp(event, now, self._policy.stale_after)
        return render_xml(event)

    async def _failed(self, rows: list[Claimed], error: TakError) -> None:
        self._metrics.tak_connected.labels(self._name).set(0)
        self._metrics.send_failures.labels(self._name, error.reason).inc()
        log.warning(
            "tak delivery failed; rows kept for retry",
            destination=self._name, reason=error.reason, error=str(error), rows=len(rows),
        )  # fmt: skip
        await self._link.close()
        now = datetime.now(UTC)
        await run_in_threadpool(self._outbox.release, rows, self._owner, now, now, str(error))


class DeliveryService:
    """Every destination's worker, the queue gauges, and an orderly stop."""

    def __init__(self, settings: Settings, outbox: Outbox, metrics: Metrics) -> None:
        self.owner = f"{settings.color or 'single'}-{uuid.uuid4().hex[:12]}"
        self._outbox, self._metrics = outbox, metrics
        self._gate = ColorGate(settings.color, settings.active_color_file)
        self._stats_every = settings.outbox_stats_seconds
        policy = DeliveryPolicy.from_settings(settings)
        self.workers = [
            DestinationWorker(
                destination,
                outbox=outbox,
                policy=policy,
                metrics=metrics,
                gate=self._gate,
                owner=self.owner,
            )
            for destination in destinations_from(settings)
        ]
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        for worker in self.workers:
            name = f"deliver-{worker.destination.name}"
            self._tasks.append(loop.create_task(worker.run(), name=name))
        self._tasks.append(loop.create_task(self._publish_stats(), name="outbox-stats"))

    async def stop(self) -> None:
        """Stop sending, close links and give back every lease this process holds."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for worker in self.workers:
            await worker.close()
        await run_in_threadpool(self._outbox.release_all, self.owner, datetime.now(UTC))

    async def _publish_stats(self) -> None:
        while True:
            active = self._gate.is_active(asyncio.get_running_loop().time())
            self._metrics.delivery_active.set(1 if active else 0)
            stats = await run_in_threadpool(self._outbox.stats)
            now = datetime.now(UTC)
            for worker in self.workers:
                name = worker.destination.name
                found = stats.get(name)
                depth = found.depth if found else 0
                oldest = found.oldest_created_at if found else None
                self._metrics.outbox_depth.labels(name).set(depth)
                age = (now - oldest).total_seconds() if oldest else 0.0
                self._metrics.outbox_oldest_age.labels(name).set(age)
            await asyncio.sleep(self._stats_every)


def _split_late(rows: list[Claimed], now: datetime) -> tuple[list[Claimed], list[Claimed]]:
    fresh = [row for row in rows if row.stale_at > now]
    late = [row for row in rows if row.stale_at <= now]
    return fresh, late
