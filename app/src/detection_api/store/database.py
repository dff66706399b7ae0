"""Engine creation: SQLite for one node (edge, laptop), PostgreSQL for production.

SQLite runs in WAL mode with `synchronous=NORMAL`: a process crash loses nothing that was
acknowledged; a power loss or OS crash can lose the last commits (see docs/adr/0005).
PostgreSQL pools are sized so that 10 pods stay under `max_connections` 200, and RDS IAM
authentication mints a fresh token for every new connection.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

import orjson
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import ConnectionPoolEntry

from detection_api.settings import Settings

# JSON columns (the request, payloads, audit details) through orjson: several per detection.
JSON_CODEC: dict[str, Any] = {
    "json_serializer": lambda value: orjson.dumps(value).decode(),
    "json_deserializer": orjson.loads,
}

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
)


_WRITERS: WeakKeyDictionary[Engine, threading.Lock] = WeakKeyDictionary()


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A write transaction. SQLite allows one writer at a time: a process-wide lock queues
    writers fairly instead of letting them spin in SQLite's busy handler (ruinous for tail
    latency). PostgreSQL needs no such lock."""
    lock = _WRITERS.get(engine)
    if lock is None:
        with engine.begin() as connection:
            yield connection
        return
    with lock, engine.begin() as connection:
        yield connection


def create_database_engine(settings: Settings) -> Engine:
    url = make_url(settings.database_url.get_secret_value())
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    return _postgresql_engine(url, settings)


def _sqlite_engine(url: URL) -> Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False}, **JSON_CODEC)
    _WRITERS[engine] = threading.Lock()

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy issue BEGIN itself so that transactions really begin (pysqlite quirk).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Any) -> None:
        # Take the write lock up front: no deadlock-prone upgrade from a read transaction.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _postgresql_engine(url: URL, settings: Settings) -> Engine:
    if url.drivername in {"postgresql", "postgres"}:
        url = url.set(drivername="postgresql+psycopg")
    query = dict(url.query)
    if settings.database_sslmode:
        query["sslmode"] = settings.database_sslmode
    url = url.set(query=query)
    engine = create_engine(
        url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_pre_ping=True,
        pool_recycle=600,
        **JSON_CODEC,
    )
    if settings.database_iam_auth:
        _use_rds_iam_tokens(engine, url, settings.aws_region)
    return engine


def _use_rds_iam_tokens(engine: Engine, url: URL, region: str | None) -> None:
    """Every new connection authenticates with a 15-minute RDS IAM token instead of a password."""
    import boto3  # noqa: PLC0415 - only deployments with IAM auth pay for the import

    client = boto3.client("rds", region_name=region)

    @event.listens_for(engine, "do_connect")
    def _token(_dialect: Any, _record: Any, _args: Any, kwargs: dict[str, Any]) -> None:
        kwargs["password"] = client.generate_db_auth_token(
            DBHostname=url.host, Port=url.port or 5432, DBUsername=url.username
        )
