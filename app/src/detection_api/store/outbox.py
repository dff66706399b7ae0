"""The outbox as a durable queue per TAK destination: claim with a lease, then settle.

One sender per destination at a time keeps delivery in order: a worker may claim rows only
while no other worker holds an unexpired lease on that destination. On PostgreSQL the claim
takes a transaction-scoped advisory lock per destination (so two claims cannot both see "no
other lease") and `FOR UPDATE SKIP LOCKED`; on SQLite, `BEGIN IMMEDIATE` already serializes.
A crashed worker's rows come back when its lease expires: delivery is at least once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, insert, or_, select, text, update

from detection_api.store.database import write_transaction
from detection_api.store.schema import audit_events, outbox


@dataclass(frozen=True)
class Claimed:
    id: int
    detection_id: str
    cot_uid: str
    payload: dict[str, Any]
    created_at: datetime
    stale_at: datetime
    attempts: int


@dataclass(frozen=True)
class QueueStats:
    depth: int
    oldest_created_at: datetime | None


@dataclass
class Outbox:
    engine: Engine

    def claim(
        self, destination: str, owner: str, limit: int, lease: timedelta, now: datetime
    ) -> list[Claimed]:
        """Lease the oldest due rows of a destination to `owner`, or none if another owns it."""
        with write_transaction(self.engine) as connection:
            if connection.dialect.name == "postgresql":
                key = _advisory_key(destination)
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
            if _leased_by_another(connection, destination, owner, now):
                return []
            due = or_(
                and_(outbox.c.state == "pending", outbox.c.next_attempt_at <= now),
                and_(outbox.c.state == "leased", outbox.c.lease_expires_at <= now),
                and_(outbox.c.state == "leased", outbox.c.lease_owner == owner),
            )
            statement = (
                select(outbox)
                .where(outbox.c.destination == destination, due)
                .order_by(outbox.c.id)
                .limit(limit)
            )
            if connection.dialect.name == "postgresql":
                statement = statement.with_for_update(skip_locked=True)
            rows = connection.execute(statement).all()
            if not rows:
                return []
            connection.execute(
                update(outbox)
                .where(outbox.c.id.in_([row.id for row in rows]))
                .values(
                    state="leased",
                    lease_owner=owner,
                    lease_expires_at=now + lease,
                    attempts=outbox.c.attempts + 1,
                    updated_at=now,
                )
            )
        return [
            Claimed(
                id=row.id,
                detection_id=row.detection_id,
                cot_uid=row.cot_uid,
                payload=row.payload,
                created_at=row.created_at,
                stale_at=row.stale_at,
                attempts=row.attempts + 1,
            )
            for row in rows
        ]

    def delivered(self, rows: Sequence[Claimed], owner: str, now: datetime) -> int:
        """Mark rows delivered (only those still leased by `owner`); audit each."""
        return self._settle(rows, owner, now, state="delivered", audit_kind="delivered")

    def expired(self, rows: Sequence[Claimed], owner: str, now: datetime, policy: str) -> int:
        """Mark rows whose stale time passed as expired; audit each with the policy."""
        return self._settle(rows, owner, now, state="expired", audit_kind="expired", policy=policy)

    def release(
        self, rows: Sequence[Claimed], owner: str, now: datetime, retry_at: datetime, error: str
    ) -> None:
        """Give rows back for a later attempt, with the reason of this failure."""
        if not rows:
            return
        with write_transaction(self.engine) as connection:
            connection.execute(
                update(outbox)
                .where(_leased_to(owner, rows))
                .values(
                    state="pending",
                    lease_owner=None,
                    lease_expires_at=None,
                    next_attempt_at=retry_at,
                    last_error=error[:1000],
                    updated_at=now,
                )
            )

    def release_all(self, owner: str, now: datetime) -> None:
        """On shutdown: every row this owner still holds goes back to pending at once."""
        with write_transaction(self.engine) as connection:
            connection.execute(
                update(outbox)
                .where(outbox.c.state == "leased", outbox.c.lease_owner == owner)
                .values(state="pending", lease_owner=None, lease_expires_at=None, updated_at=now)
            )

    def stats(self) -> dict[str, QueueStats]:
        """Undelivered rows and the oldest one's age, per destination."""
        statement = (
            select(outbox.c.destination, func.count(), func.min(outbox.c.created_at))
            .where(outbox.c.state.in_(("pending", "leased")))
            .group_by(outbox.c.destination)
        )
        with self.engine.connect() as connection:
            rows = connection.execute(statement).all()
        return {
            destination: QueueStats(depth=count, oldest_created_at=oldest)
            for destination, count, oldest in rows
        }

    def _settle(
        self,
        rows: Sequence[Claimed],
        owner: str,
        now: datetime,
        *,
        state: str,
        audit_kind: str,
        **details: Any,
    ) -> int:
        if not rows:
            return 0
        with write_transaction(self.engine) as connection:
            result = connection.execute(
                update(outbox)
                .where(_leased_to(owner, rows))
                .values(
                    state=state,
                    lease_owner=None,
                    lease_expires_at=None,
                    delivered_at=now if state == "delivered" else None,
                    updated_at=now,
                )
                .returning(outbox.c.id, outbox.c.detection_id, outbox.c.destination)
            )
            settled = result.all()
            if settled:
                connection.execute(
                    insert(audit_events),
                    [
                        {
                            "at": now,
                            "kind": audit_kind,
                            "principal": f"worker:{owner}"[:128],
                            "detection_id": detection_id,
                            "details": {"destination": destination, "outbox_id": row_id, **details},
                        }
                        for row_id, detection_id, destination in settled
                    ],
                )
        return len(settled)


def _leased_by_another(connection: Connection, destination: str, owner: str, now: datetime) -> bool:
    statement = (
        select(outbox.c.id)
        .where(
            outbox.c.destination == destination,
            outbox.c.state == "leased",
            outbox.c.lease_owner != owner,
            outbox.c.lease_expires_at > now,
        )
        .limit(1)
    )
    return connection.execute(statement).first() is not None


def _leased_to(owner: str, rows: Sequence[Claimed]) -> Any:
    return and_(
        outbox.c.id.in_([row.id for row in rows]),
        outbox.c.state == "leased",
        outbox.c.lease_owner == owner,
    )


def _advisory_key(destination: str) -> int:
    digest = hashlib.sha256(f"outbox:{destination}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
