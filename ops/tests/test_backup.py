"""Backup and restore against the real PostgreSQL at 127.0.0.1:5432, a real SQLite queue with
pending outbox rows, and S3 + KMS served by moto_server: round trips with identical row counts
and checksums, a corrupted object detected, a wrong KMS key refused, pending rows delivered
after the restore by the real delivery worker to a loopback TAK peer."""

from __future__ import annotations

import asyncio
import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import boto3
import pytest

from detection_api.taksink import TakSink
from detection_ops.backup import postgres, sqlite
from detection_ops.backup.__main__ import main
from detection_ops.backup.config import BackupConfig
from detection_ops.backup.drill import seed
from detection_ops.backup.localaws import BackupBucket, moto_server, provision
from detection_ops.backup.restore import RestoreTarget, restore
from detection_ops.backup.store import BackupStore
from detection_ops.backup.take import take_backups
from detection_ops.backup.verify import verify_postgres, verify_sqlite
from detection_ops.deploy.steps import OperatorError, Steps
from detection_ops.localserver import free_port

SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
DETECTIONS = 6


@pytest.fixture(scope="module")
def aws_env(require_tool) -> Iterator[dict[str, str]]:
    require_tool("moto_server")
    with moto_server() as env:
        yield env


@pytest.fixture
def bucket(aws_env, monkeypatch) -> BackupBucket:
    for key, value in aws_env.items():
        monkeypatch.setenv(key, value)
    return provision(boto3.session.Session(), f"backups-{secrets.token_hex(4)}")


@pytest.fixture(scope="module")
def tak_port() -> int:
    """The TAK destination of the seeded rows: down while seeding, a TakSink after restore."""
    return free_port()


@pytest.fixture(scope="module")
def source(tmp_path_factory, tak_port) -> Iterator[tuple[str, Path]]:
    """A PostgreSQL database and a SQLite queue, both filled by the real service."""
    name = f"backup_src_{secrets.token_hex(4)}"
    url = postgres.create_database(SERVER, name).render_as_string(False)
    sqlite_path = tmp_path_factory.mktemp("node") / "detection-api.db"
    try:
        seed(url, DETECTIONS, tak_port)
        seed(f"sqlite:///{sqlite_path}", DETECTIONS, tak_port)
        yield url, sqlite_path
    finally:
        postgres.drop_database(SERVER, name)


def config_for(bucket: BackupBucket, url: str | None, sqlite_path: Path | None) -> BackupConfig:
    return BackupConfig(
        "test", bucket.bucket, bucket.kms_key_arn, "us-east-1", url, sqlite_path, SERVER
    )


def steps() -> Steps:
    return Steps(run="test")


@pytest.fixture
def scratch_names() -> Iterator[list[str]]:
    names: list[str] = []
    yield names
    for name in names:
        postgres.drop_database(SERVER, name)


def test_round_trip_keeps_row_counts_and_checksums(
    bucket, source, scratch_names, tmp_path, monkeypatch
):
    url, sqlite_path = source
    before_pg, before_sqlite = postgres.table_states(url), sqlite.table_states(sqlite_path)
    assert before_pg["outbox"].rows == DETECTIONS
    manifests = take_backups(config_for(bucket, url, sqlite_path), steps())
    assert {m.kind: m.tables for m in manifests} == {"postgres": before_pg, "sqlite": before_sqlite}

    name = f"restored_{secrets.token_hex(4)}"
    scratch_names.append(name)
    restored_sqlite = tmp_path / "restored.db"
    for key, value in {
        "DETECTION_OPS_BACKUP_BUCKET": bucket.bucket,
        "DETECTION_OPS_BACKUP_KMS_KEY": bucket.kms_key_arn,
        "DETECTION_API_DATABASE_URL": url,
    }.items():
        monkeypatch.setenv(key, value)
    reports = tmp_path / "reports"
    assert (
        main(
            [
                "restore",
                "--env",
                "test",
                "--target-database",
                name,
                "--sqlite-path",
                str(restored_sqlite),
                "--reports",
                str(reports),
            ]
        )
        == 0
    )

    after_pg = postgres.table_states(postgres.database_url(url, name))
    for table in ("detections", "outbox", "audit_events"):
        assert after_pg[table] == before_pg[table]
        assert sqlite.table_states(restored_sqlite)[table] == before_sqlite[table]
    [report] = reports.glob("dr-test-*.json")
    assert json.loads(report.read_text())["passed"] is True


def test_in_place_restore_brings_back_the_backed_up_state(bucket, source, scratch_names):
    url, _ = source
    [manifest] = take_backups(config_for(bucket, url, None), steps(), verify=False)
    copy = f"inplace_{secrets.token_hex(4)}"
    scratch_names.append(copy)
    restore(
        config_for(bucket, url, None),
        manifest.backup_id,
        RestoreTarget(database_name=copy),
        steps(),
    )
    copy_url = postgres.database_url(url, copy).render_as_string(False)
    with postgres.connect(copy_url) as engine, engine.begin() as connection:
        connection.exec_driver_sql("UPDATE outbox SET state = 'failed'")
    assert postgres.table_states(copy_url)["outbox"] != manifest.tables["outbox"]

    outcome = restore(
        config_for(bucket, copy_url, None),
        manifest.backup_id,
        RestoreTarget(in_place=True),
        steps(),
    )
    assert outcome.database_url is not None
    assert postgres.database_url(outcome.database_url, copy) == postgres.database_url(
        copy_url, copy
    )
    assert postgres.table_states(copy_url)["outbox"] == manifest.tables["outbox"]


def test_objects_are_encrypted_with_the_customer_key(bucket, source):
    url, _ = source
    [manifest] = take_backups(config_for(bucket, url, None), steps(), verify=False)
    s3 = boto3.client("s3")
    for name in (manifest.artifact.name, "manifest.json"):
        head = s3.head_object(Bucket=bucket.bucket, Key=manifest.prefix + name)
        assert head["ServerSideEncryption"] == "aws:kms"
        assert head["SSEKMSKeyId"] == bucket.kms_key_arn


def test_corrupted_object_is_detected(bucket, source, tmp_path):
    url, sqlite_path = source
    manifests = take_backups(config_for(bucket, url, sqlite_path), steps(), verify=False)
    store = BackupStore(boto3.client("s3"), bucket.bucket, bucket.kms_key_arn)
    s3 = boto3.client("s3")
    for manifest in manifests:
        key = manifest.prefix + manifest.artifact.name
        body = bytearray(s3.get_object(Bucket=bucket.bucket, Key=key)["Body"].read())
        body[len(body) // 2] ^= 0xFF  # one flipped byte, same size
        s3.put_object(
            Bucket=bucket.bucket,
            Key=key,
            Body=bytes(body),
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=bucket.kms_key_arn,
        )
    with pytest.raises(OperatorError, match="is corrupted"):
        verify_postgres(store, manifests[0], SERVER, tmp_path)
    with pytest.raises(OperatorError, match="is corrupted"):
        verify_sqlite(store, manifests[1], tmp_path)
    with pytest.raises(OperatorError, match="is corrupted"):
        restore(config_for(bucket, url, sqlite_path), "latest", RestoreTarget(), steps())


def test_wrong_kms_key_is_refused(bucket, source, tmp_path):
    _, sqlite_path = source
    [manifest] = take_backups(config_for(bucket, None, sqlite_path), steps(), verify=False)
    other_key = boto3.client("kms").create_key(Description="not the backup key")["KeyMetadata"][
        "Arn"
    ]
    s3 = boto3.client("s3")
    key = manifest.prefix + manifest.artifact.name
    body = s3.get_object(Bucket=bucket.bucket, Key=key)["Body"].read()
    s3.put_object(
        Bucket=bucket.bucket,
        Key=key,
        Body=body,
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=other_key,
    )
    store = BackupStore(s3, bucket.bucket, bucket.kms_key_arn)
    with pytest.raises(OperatorError, match="not the backup key"):
        verify_sqlite(store, manifest, tmp_path)
    # The same object is accepted by a store that expects the other key: the check is the key.
    assert BackupStore(s3, bucket.bucket, other_key).download(manifest, tmp_path).is_file()


def test_a_restore_of_an_unknown_backup_names_the_existing_ones(bucket, source):
    _, sqlite_path = source
    [manifest] = take_backups(config_for(bucket, None, sqlite_path), steps(), verify=False)
    with pytest.raises(OperatorError, match=manifest.backup_id):
        restore(
            config_for(bucket, None, sqlite_path),
            "20000101T000000000000Z",
            RestoreTarget(),
            steps(),
        )


def test_pending_outbox_rows_are_delivered_after_restore(bucket, source, tak_port, tmp_path):
    _, sqlite_path = source
    with closing(sqlite3.connect(sqlite_path)) as db:
        pending = db.execute(
            "SELECT id, cot_uid, payload FROM outbox WHERE state = 'pending'"
        ).fetchall()
    assert len(pending) == DETECTIONS
    take_backups(config_for(bucket, None, sqlite_path), steps())

    restored = tmp_path / "restored.db"
    with closing(sqlite3.connect(sqlite_path)) as db:
        intact = db.execute(
            "SELECT id, cot_uid, payload FROM outbox WHERE state = 'pending'"
        ).fetchall()
    assert intact == pending

    with running_sink(tak_port) as sink:
        delivered: list[str] = []

        def wait_for_delivery(_url: str) -> None:
            deadline = time.monotonic() + 60
            while len(sink.events) < len(pending) and time.monotonic() < deadline:
                time.sleep(0.2)
            delivered.extend(sink.uids)

        target = RestoreTarget(
            sqlite_path=restored,
            service_env={"DETECTION_API_TAK_DESTINATIONS": f"tcp://127.0.0.1:{tak_port}"},
        )
        restore(
            config_for(bucket, None, sqlite_path),
            "latest",
            target,
            steps(),
            on_ready=wait_for_delivery,
        )

    assert sorted(delivered) == sorted(uid for _, uid, _ in pending)
    with closing(sqlite3.connect(restored)) as db:
        states = db.execute("SELECT DISTINCT state FROM outbox").fetchall()
    assert states == [("delivered",)]


class running_sink:  # noqa: N801 - used as a context manager, reads like one
    """A TakSink on its own event loop thread (the restore under test is synchronous)."""

    def __init__(self, port: int) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.sink = TakSink(port=port)

    def __enter__(self) -> TakSink:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.sink.start(), self.loop).result(10)
        return self.sink

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.sink.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def test_restore_script_loads_the_dump_through_psql_and_stops_at_an_error(
    source, scratch_names, tmp_path
):
    """The path for a pg_restore newer than the server (client 17, RDS 16): the same tables, and
    the first SQL error fails the restore (here: loading twice without --clean)."""
    url, _ = source
    dump_file = tmp_path / "detection-api.dump"
    postgres.dump(url, dump_file)
    name = f"script_{secrets.token_hex(4)}"
    scratch_names.append(name)
    target = postgres.create_database(SERVER, name)
    tool, env = postgres.find_tool("pg_restore"), postgres.libpq_env(target)
    postgres.restore_script(tool, [str(dump_file)], name, env, single_transaction=True)
    assert postgres.table_states(target) == postgres.table_states(url)
    with pytest.raises(OperatorError, match=r"psql \(restore script\) failed: .*already exists"):
        postgres.restore_script(tool, [str(dump_file)], name, env, single_transaction=True)
    assert postgres.table_states(target) == postgres.table_states(url)  # one transaction
