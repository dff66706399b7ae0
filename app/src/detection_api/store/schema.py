"""Database tables. The Alembic migrations under `migrations/` create exactly these.

Core tables (no ORM): the ingest path writes many rows per transaction and reads them back as
plain mappings, which SQLAlchemy Core does with far less overhead.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import override

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL wants a 64-bit identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, on SQLite (which has no zone type) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    @override
    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: the store keeps timezone-aware UTC only")
        return value.astimezone(UTC)

    @override
    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_timestamp(name: str, *, nullable: bool = False) -> Column[datetime]:
    return Column(name, UtcDateTime(), nullable=nullable)


detections = Table(
    "detections",
    metadata,
    Column("id", String(36), primary_key=True),
    utc_timestamp("received_at"),
    utc_timestamp("captured_at"),
    Column("principal", String(128), nullable=False),
    Column("source", String(128), nullable=False),
    Column("camera_id", String(128), nullable=False),
    Column("object_class", String(64), nullable=False),
    Column("confidence", Float, nullable=False),
    # The validated input, enough to recompute the solution later.
    Column("request", JSON, nullable=False),
    Column("request_sha256", String(64), nullable=False),
    Column("image_sha256", String(64)),
    Column("lat", Float),
    Column("lon", Float),
    Column("hae", Float),
    Column("ce90_m", Float),
    Column("le90_m", Float),
    Column("ellipse_semi_major_m", Float),
    Column("ellipse_semi_minor_m", Float),
    Column("ellipse_orientation_deg", Float),
    Column("category", String(8)),
    Column("flag", String(8), nullable=False),
    Column("refusal", String(64)),
    Column("slant_range_m", Float),
    Column("depression_deg", Float),
    Column("cot_uid", String(128), nullable=False),
    Index(None, "received_at", "id"),
    Index(None, "flag", "received_at"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("detection_id", String(36), ForeignKey("detections.id"), nullable=False),
    Column("destination", String(64), nullable=False),
    Column("cot_uid", String(128), nullable=False),
    # The CoT event as data; rendered (and re-stamped if late) at send time.
    Column("payload", JSON, nullable=False),
    utc_timestamp("event_time"),
    utc_timestamp("stale_at"),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    utc_timestamp("next_attempt_at"),
    Column("lease_owner", String(128)),
    utc_timestamp("lease_expires_at", nullable=True),
    utc_timestamp("created_at"),
    utc_timestamp("updated_at"),
    utc_timestamp("delivered_at", nullable=True),
    Column("last_error", Text),
    Index(None, "destination", "state", "id"),
    Index(None, "state", "created_at"),
    Index(None, "detection_id"),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    utc_timestamp("at"),
    Column("kind", String(32), nullable=False),
    Column("principal", String(128), nullable=False),
    Column("detection_id", String(36)),
    Column("details", JSON, nullable=False),
    Index(None, "detection_id"),
    Index(None, "kind", "at"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("prefix", String(16), nullable=False, unique=True),
    Column("key_hash", String(128), nullable=False),
    Column("scopes", JSON, nullable=False),
    utc_timestamp("created_at"),
    utc_timestamp("expires_at", nullable=True),
    utc_timestamp("revoked_at", nullable=True),
    utc_timestamp("last_used_at", nullable=True),
)
