"""Fixtures of the service's tests: real databases (SQLite and PostgreSQL) and a running app."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from detection_api.api.examples import example_detection
from detection_api.main import create_app
from detection_api.settings import Settings
from detection_api.store import migrate
from detection_api.store.database import create_database_engine

POSTGRES_URL = os.environ.get(
    "DETECTION_API_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
DEV_KEY = "dak_test_0123456789abcdefghijklmnopqrstuv"


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def postgres_available() -> bool:
    try:
        with create_engine(POSTGRES_URL).connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as error:
        if _in_ci():
            pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_URL}: {error}")
        return False
    return True


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Any, postgres_available: bool
) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a new schema in the local PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/detections.db"
        return
    if not postgres_available:
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def make_settings(database_url: str) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "metrics_port": 0,
            "dev_api_key": DEV_KEY,
            "log_level": "WARNING",
        }
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def migrated(make_settings: Callable[..., Settings]) -> Settings:
    settings = make_settings()
    engine = create_database_engine(settings)
    migrate.upgrade(engine)
    engine.dispose()
    return settings


@pytest.fixture
def start_client(migrated: Settings) -> Iterator[Callable[..., TestClient]]:
    """Start the app with settings overrides; every client is closed (lifespan ends) after."""
    clients: list[TestClient] = []

    def start(**overrides: Any) -> TestClient:
        settings = migrated.model_copy(update=overrides) if overrides else migrated
        client = TestClient(create_app(settings, configure_logs=False))
        client.__enter__()
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(start_client: Callable[..., TestClient]) -> TestClient:
    return start_client()


@pytest.fixture
def auth() -> dict[str, str]:
    return {"X-API-Key": DEV_KEY}


def detection(**overrides: Any) -> dict[str, Any]:
    """A valid detection captured at a fixed time (hours old: stale for TAK, fine for storage)."""
    return example_detection(datetime(2026, 12, 3, 12, 0, tzinfo=UTC), **overrides)


@pytest.fixture
def valid_detection() -> Callable[..., dict[str, Any]]:
    return detection
