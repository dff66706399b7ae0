"""Migrations run up and down on SQLite and PostgreSQL, match the code's tables, and keep the
audit trail append-only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import delete, insert, inspect, text, update
from sqlalchemy.exc import DatabaseError

from detection_api.settings import Settings
from detection_api.store import migrate
from detection_api.store.database import create_database_engine
from detection_api.store.schema import audit_events, metadata

TABLES = {"detections", "outbox", "audit_events", "api_keys", "alembic_version"}


def test_migrations_go_up_down_and_up_again(make_settings: Callable[..., Settings]) -> None:
    engine = create_database_engine(make_settings())
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    assert set(inspect(engine).get_table_names()) >= TABLES
    migrate.downgrade(engine, "base")
    assert migrate.current_revision(engine) is None
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(engine)
    migrate.ensure_at_head(engine)


def test_the_migrated_schema_is_exactly_the_code_s_tables(
    make_settings: Callable[..., Settings],
) -> None:
    engine = create_database_engine(make_settings())
    migrate.upgrade(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []


def test_a_schema_behind_the_code_refuses_to_start(make_settings: Callable[..., Settings]) -> None:
    engine = create_database_engine(make_settings())
    with pytest.raises(migrate.SchemaBehindError, match="detection-api migrate"):
        migrate.ensure_at_head(engine)


def test_audit_events_cannot_be_updated_or_deleted(make_settings: Callable[..., Settings]) -> None:
    engine = create_database_engine(make_settings())
    migrate.upgrade(engine)
    row = {"at": datetime.now(UTC), "kind": "test", "principal": "p", "details": {}}
    with engine.begin() as connection:
        connection.execute(insert(audit_events), [row])
    for statement in (update(audit_events).values(kind="forged"), delete(audit_events)):
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as connection:
            connection.execute(statement)
    with engine.connect() as connection:
        kinds = connection.execute(text("SELECT kind FROM audit_events")).scalars().all()
    assert kinds == ["test"]
    if engine.dialect.name == "postgresql":
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as connection:
            connection.execute(text("TRUNCATE audit_events"))
