"""Backup building blocks without S3: SQLite online snapshots of a live WAL database, the
pg_dump version gate, IAM tokens kept off the command line, configuration errors, manifests."""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
import stat
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from detection_ops.backup import postgres, sqlite
from detection_ops.backup.config import BackupConfig
from detection_ops.backup.manifest import Artifact, Manifest, TableState, table_mismatches
from detection_ops.deploy.steps import OperatorError

SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def live_wal_database(path: Path, rows: int) -> sqlite3.Connection:
    """A WAL database whose recent commits are only in the -wal file (no checkpoint yet)."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")
    for table in ("detections", "outbox", "audit_events", "api_keys", "alembic_version"):
        db.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, body TEXT)")
    db.execute("INSERT INTO alembic_version (body) VALUES ('head')")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.executemany("INSERT INTO outbox (body) VALUES (?)", [(f"row {i}",) for i in range(rows)])
    return db


def test_snapshot_of_a_live_wal_database_has_every_commit(tmp_path):
    source = tmp_path / "live.db"
    with closing(live_wal_database(source, rows=50)):
        snapshot = tmp_path / "snapshot.db"
        sqlite.snapshot(source, snapshot)
        copied = tmp_path / "copied.db"
        shutil.copy(source, copied)  # what a file copy of a live database gets
        assert sqlite.table_states(snapshot)["outbox"].rows == 50
        assert sqlite.table_states(copied)["outbox"].rows == 0
    assert not Path(f"{snapshot}-wal").exists()


def test_restore_replaces_the_database_and_drops_stale_wal_files(tmp_path):
    source = tmp_path / "live.db"
    with closing(live_wal_database(source, rows=3)):
        sqlite.snapshot(source, tmp_path / "snapshot.db")
    target = tmp_path / "node" / "detection-api.db"
    target.parent.mkdir()
    target.write_bytes(b"destroyed")
    Path(f"{target}-wal").write_bytes(b"stale")
    sqlite.restore(tmp_path / "snapshot.db", target)
    assert sqlite.table_states(target)["outbox"].rows == 3
    assert not Path(f"{target}-wal").exists()


def test_missing_sqlite_database_is_a_clear_error(tmp_path):
    with pytest.raises(OperatorError, match="does not exist"):
        sqlite.snapshot(tmp_path / "absent.db", tmp_path / "out.db")


def fake_tool(tmp_path: Path, version: str) -> str:
    tool = tmp_path / "pg_dump"
    tool.write_text(f"#!/bin/sh\necho 'pg_dump (PostgreSQL) {version}'\n")
    tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    return str(tool)


def test_pg_dump_older_than_the_server_is_refused(tmp_path):
    server = postgres.server_major(SERVER)
    with pytest.raises(OperatorError, match=f"install postgresql-client-{server}"):
        postgres.require_compatible_client(fake_tool(tmp_path, f"{server - 1}.9"), SERVER)
    described = postgres.require_compatible_client(fake_tool(tmp_path, f"{server}.1"), SERVER)
    assert described == f"pg_dump {server} (server {server})"


def test_iam_token_travels_in_pgpassword_only(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    url = "postgresql://detection_api@db.example.internal:5432/detection_api?sslmode=verify-full"
    env = postgres.libpq_env(url, iam_region="us-east-1")
    assert "X-Amz-Signature=" in env["PGPASSWORD"]
    assert env["PGUSER"] == "detection_api"
    assert env["PGSSLMODE"] == "verify-full"
    assert env["PGHOST"] == "db.example.internal"


def test_iam_auth_signs_every_sqlalchemy_connection_too(monkeypatch):
    """Table states, version checks and scratch databases authenticate as pg_dump does: a fresh
    RDS IAM token as the password (the local server trusts any password, so both connect)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with postgres.connect(SERVER, iam_region="us-east-1") as engine, engine.connect() as connection:
        token = connection.connection.dbapi_connection.info.password
    assert token.startswith("127.0.0.1:5432/?Action=connect&DBUser=postgres&")
    assert "X-Amz-Signature=" in token
    with postgres.connect(SERVER) as engine, engine.connect() as connection:
        assert connection.connection.dbapi_connection.info.password == ""


def test_restore_script_drops_only_the_preambles_transaction_timeout():
    script = [
        b"--\n",
        b"\\restrict abc\n",
        b"SET statement_timeout = 0;\n",
        b"SET transaction_timeout = 0;\n",
        b"SELECT pg_catalog.set_config('search_path', '', false);\n",
        b"\n",
        b"CREATE TABLE public.outbox (body text);\n",
        b"COPY public.outbox (body) FROM stdin;\n",
        b"SET transaction_timeout = 0;\n",  # a row that happens to read like the setting
        b"\\.\n",
    ]
    kept = list(postgres.without_transaction_timeout(script))
    assert kept == script[:3] + script[4:]


def test_password_from_the_url_goes_to_pgpassword():
    env = postgres.libpq_env("postgresql://u:s3cret@127.0.0.1:5433/db")
    assert (env["PGPASSWORD"], env["PGPORT"], env["PGDATABASE"]) == ("s3cret", "5433", "db")


def test_scratch_database_names_are_checked():
    with pytest.raises(OperatorError, match="unsafe database name"):
        postgres.create_database(SERVER, 'x"; DROP DATABASE test; --')


def test_table_states_change_with_content():
    name = f"units_{secrets.token_hex(4)}"
    url = postgres.create_database(SERVER, name)
    try:
        with postgres.connect(url) as engine, engine.begin() as connection:
            for table in ("detections", "outbox", "audit_events", "api_keys", "alembic_version"):
                connection.exec_driver_sql(f"CREATE TABLE {table} (id int, body text)")
            connection.exec_driver_sql("INSERT INTO outbox VALUES (1, 'a'), (2, 'b')")
        before = postgres.table_states(url)
        with postgres.connect(url) as engine, engine.begin() as connection:
            connection.exec_driver_sql("UPDATE outbox SET body = 'c' WHERE id = 2")
        after = postgres.table_states(url)
    finally:
        postgres.drop_database(SERVER, name)
    assert before["outbox"].rows == after["outbox"].rows == 2
    assert table_mismatches(before, after) == ["outbox: content checksum differs from the backup"]


def test_config_names_the_missing_variables():
    with pytest.raises(
        OperatorError, match="DETECTION_OPS_BACKUP_BUCKET and DETECTION_OPS_BACKUP_KMS_KEY"
    ):
        BackupConfig.from_environ("dev", {})


def test_config_reads_postgres_or_sqlite_from_the_service_url():
    base = {"DETECTION_OPS_BACKUP_BUCKET": "b", "DETECTION_OPS_BACKUP_KMS_KEY": "arn:k"}
    pg = BackupConfig.from_environ("dev", {**base, "DETECTION_API_DATABASE_URL": SERVER})
    assert (pg.database_url, pg.sqlite_path, pg.scratch_url) == (SERVER, None, SERVER)
    edge = BackupConfig.from_environ(
        "edge", {**base, "DETECTION_API_DATABASE_URL": "sqlite:///var/q.db"}
    )
    assert (edge.database_url, edge.sqlite_path) == (None, Path("var/q.db"))
    iam = BackupConfig.from_environ(
        "production",
        {
            **base,
            "DETECTION_API_DATABASE_URL": SERVER,
            "DETECTION_API_DATABASE_IAM_AUTH": "true",
            "AWS_REGION": "eu-west-1",
        },
    )
    assert iam.iam_region == "eu-west-1"
    assert iam.scratch_iam_region == "eu-west-1"  # verification restores go to the same server
    elsewhere = BackupConfig.from_environ(
        "production",
        {
            **base,
            "DETECTION_API_DATABASE_URL": SERVER,
            "DETECTION_API_DATABASE_IAM_AUTH": "true",
            "DETECTION_OPS_SCRATCH_DATABASE_URL": "postgresql://u:p@scratch:5432/postgres",
        },
    )
    assert (elsewhere.iam_region, elsewhere.scratch_iam_region) == ("us-east-1", None)


def test_config_takes_the_services_sslmode():
    """The chart sets DETECTION_API_DATABASE_SSLMODE beside a URL without one, as for the app."""
    base = {"DETECTION_OPS_BACKUP_BUCKET": "b", "DETECTION_OPS_BACKUP_KMS_KEY": "arn:k"}
    environ = {
        **base,
        "DETECTION_API_DATABASE_URL": SERVER,
        "DETECTION_API_DATABASE_SSLMODE": "verify-full",
    }
    config = BackupConfig.from_environ("production", environ)
    assert config.database_url == f"{SERVER}?sslmode=verify-full"
    assert postgres.libpq_env(config.database_url)["PGSSLMODE"] == "verify-full"
    explicit = {**environ, "DETECTION_API_DATABASE_URL": f"{SERVER}?sslmode=require"}
    assert BackupConfig.from_environ("production", explicit).database_url.endswith("=require")


def test_manifest_round_trips_through_json(tmp_path):
    artifact = tmp_path / "detection-api.dump"
    artifact.write_bytes(os.urandom(1000))
    manifest = Manifest(
        backup_id="20261203T120000000000Z",
        kind="postgres",
        environment="dev",
        source=make_url(SERVER).render_as_string(hide_password=True),
        created_at=datetime(2026, 12, 3, 12, tzinfo=UTC),
        schema_version="0003",
        artifact=Artifact.of(artifact),
        tables={"outbox": TableState(rows=2, checksum="abc")},
        tool="pg_dump 15",
    )
    assert Manifest.from_json(manifest.to_json()) == manifest
    assert manifest.artifact.size == 1000
    assert manifest.prefix == "postgres/20261203T120000000000Z/"
