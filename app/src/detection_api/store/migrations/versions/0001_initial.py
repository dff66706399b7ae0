"""Initial schema: detections, outbox, append-only audit events, API keys.

Revision ID: 0001
Revises:
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from detection_api.store.schema import BigId, UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

APPEND_ONLY_MESSAGE = "audit_events is append-only"

POSTGRESQL_AUDIT_GUARD = f"""
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}' USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
"""

SQLITE_AUDIT_GUARD = [
    f"""CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events
        BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"""
    for verb in ("UPDATE", "DELETE")
]


def upgrade() -> None:
    op.create_table(
        "detections",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("captured_at", UtcDateTime(), nullable=False),
        sa.Column("principal", sa.String(128), nullable=False),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("camera_id", sa.String(128), nullable=False),
        sa.Column("object_class", sa.String(64), nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("request", sa.JSON, nullable=False),
        sa.Column("request_sha256", sa.String(64), nullable=False),
        sa.Column("image_sha256", sa.String(64)),
        sa.Column("lat", sa.Float),
        sa.Column("lon", sa.Float),
        sa.Column("hae", sa.Float),
        sa.Column("ce90_m", sa.Float),
        sa.Column("le90_m", sa.Float),
        sa.Column("ellipse_semi_major_m", sa.Float),
        sa.Column("ellipse_semi_minor_m", sa.Float),
        sa.Column("ellipse_orientation_deg", sa.Float),
        sa.Column("category", sa.String(8)),
        sa.Column("flag", sa.String(8), nullable=False),
        sa.Column("refusal", sa.String(64)),
        sa.Column("slant_range_m", sa.Float),
        sa.Column("depression_deg", sa.Float),
        sa.Column("cot_uid", sa.String(128), nullable=False),
    )
    op.create_index("ix_detections_received_at_id", "detections", ["received_at", "id"])
    op.create_index("ix_detections_flag_received_at", "detections", ["flag", "received_at"])

    op.create_table(
        "outbox",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("detection_id", sa.String(36), sa.ForeignKey("detections.id"), nullable=False),
        sa.Column("destination", sa.String(64), nullable=False),
        sa.Column("cot_uid", sa.String(128), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("event_time", UtcDateTime(), nullable=False),
        sa.Column("stale_at", UtcDateTime(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
        sa.Column("lease_owner", sa.String(128)),
        sa.Column("lease_expires_at", UtcDateTime()),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("delivered_at", UtcDateTime()),
        sa.Column("last_error", sa.Text),
    )
    op.create_index("ix_outbox_destination_state_id", "outbox", ["destination", "state", "id"])
    op.create_index("ix_outbox_state_created_at", "outbox", ["state", "created_at"])
    op.create_index("ix_outbox_detection_id", "outbox", ["detection_id"])

    op.create_table(
        "audit_events",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("principal", sa.String(128), nullable=False),
        sa.Column("detection_id", sa.String(36)),
        sa.Column("details", sa.JSON, nullable=False),
    )
    op.create_index("ix_audit_events_detection_id", "audit_events", ["detection_id"])
    op.create_index("ix_audit_events_kind_at", "audit_events", ["kind", "at"])

    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False, unique=True),
        sa.Column("key_hash", sa.String(128), nullable=False),
        sa.Column("scopes", sa.JSON, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime()),
        sa.Column("revoked_at", UtcDateTime()),
        sa.Column("last_used_at", UtcDateTime()),
    )

    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRESQL_AUDIT_GUARD)
    else:
        for statement in SQLITE_AUDIT_GUARD:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION audit_events_append_only()")
    op.drop_table("api_keys")
    op.drop_table("audit_events")
    op.drop_table("outbox")
    op.drop_table("detections")
