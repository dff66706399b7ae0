"""Detections with their outbox rows and audit events: written together, read back together."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, insert, or_, select, tuple_

from detection_api.store.database import write_transaction
from detection_api.store.schema import audit_events, detections, outbox

PENDING_STATES = ("pending", "leased")


@dataclass(frozen=True)
class NewDetection:
    """Everything one accepted detection writes, in one transaction."""

    row: Mapping[str, Any]
    outbox_rows: Sequence[Mapping[str, Any]] = ()
    audit_rows: Sequence[Mapping[str, Any]] = ()


@dataclass(frozen=True)
class PageQuery:
    since: datetime | None = None
    until: datetime | None = None
    flag: str | None = None
    limit: int = 100
    cursor: tuple[datetime, str] | None = None


@dataclass
class DetectionStore:
    """The detections table and everything written with it."""

    engine: Engine

    def insert(self, new: Sequence[NewDetection]) -> None:
        """Store detections, their outbox rows and audit events atomically."""
        if not new:
            return
        with write_transaction(self.engine) as connection:
            connection.execute(insert(detections), [item.row for item in new])
            outbox_rows = [row for item in new for row in item.outbox_rows]
            if outbox_rows:
                connection.execute(insert(outbox), outbox_rows)
            audit_rows = [row for item in new for row in item.audit_rows]
            if audit_rows:
                connection.execute(insert(audit_events), audit_rows)

    def get_many(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Detections by id, each with the states of its outbox rows under `delivery_states`."""
        if not ids:
            return {}
        with self.engine.connect() as connection:
            rows = connection.execute(select(detections).where(detections.c.id.in_(ids)))
            found = {row.id: dict(row._mapping) for row in rows}
            self._attach_delivery_states(connection, found)
        return found

    def page(self, query: PageQuery) -> list[dict[str, Any]]:
        """Detections in (received_at, id) order after the cursor: keyset pagination."""
        conditions = []
        if query.since is not None:
            conditions.append(detections.c.received_at >= query.since)
        if query.until is not None:
            conditions.append(detections.c.received_at < query.until)
        if query.flag is not None:
            conditions.append(detections.c.flag == query.flag)
        if query.cursor is not None:
            conditions.append(
                tuple_(detections.c.received_at, detections.c.id) > tuple_(*query.cursor)
            )
        statement = (
            select(detections)
            .where(and_(True, *conditions))
            .order_by(detections.c.received_at, detections.c.id)
            .limit(query.limit)
        )
        with self.engine.connect() as connection:
            found = {row.id: dict(row._mapping) for row in connection.execute(statement)}
            self._attach_delivery_states(connection, found)
        return list(found.values())

    def pending_outbox_rows(self) -> int:
        statement = select(func.count()).select_from(outbox)
        statement = statement.where(or_(*(outbox.c.state == s for s in PENDING_STATES)))
        with self.engine.connect() as connection:
            return int(connection.execute(statement).scalar_one())

    @staticmethod
    def _attach_delivery_states(connection: Connection, found: dict[str, dict[str, Any]]) -> None:
        for row in found.values():
            row["delivery_states"] = []
        if not found:
            return
        statement = select(outbox.c.detection_id, outbox.c.state).where(
            outbox.c.detection_id.in_(list(found))
        )
        for detection_id, state in connection.execute(statement):
            found[detection_id]["delivery_states"].append(state)


def encode_cursor(received_at: datetime, detection_id: str) -> str:
    raw = f"{received_at.isoformat()}|{detection_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """Inverse of `encode_cursor`; raises ValueError for anything it did not produce."""
    padded = cursor + "=" * (-len(cursor) % 4)
    try:
        raw = base64.urlsafe_b64decode(padded.encode()).decode()
        timestamp, detection_id = raw.split("|", 1)
        received_at = datetime.fromisoformat(timestamp)
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError("not a cursor returned by this API") from error
    if received_at.tzinfo is None or len(detection_id) != 36:
        raise ValueError("not a cursor returned by this API")
    return received_at, detection_id
