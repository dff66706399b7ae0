"""`inv dr-drill`: backup -> destroy -> restore -> ready, on this machine, measured.

The drill builds a real source: a PostgreSQL database and a SQLite node queue, each filled by
the real service over HTTP (detections with pending outbox rows for a TAK destination that is
down). It backs both up to S3 (moto_server, SSE-KMS), destroys them, restores them and measures
RTO from the moment of destruction to /readyz of the restored service.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import boto3
import httpx
from sqlalchemy.engine import make_url

from detection_ops.backup import postgres
from detection_ops.backup.config import BackupConfig
from detection_ops.backup.localaws import moto_server, provision
from detection_ops.backup.report import DrReport
from detection_ops.backup.restore import RestoreTarget, restore
from detection_ops.backup.service import serving
from detection_ops.backup.take import take_backups
from detection_ops.deploy.smoke import smoke_detection
from detection_ops.deploy.steps import OperatorError, Steps
from detection_ops.localserver import free_port

DEV_KEY = "dak_dev_dev-only-not-a-secret"
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class DrillSource:
    database_url: str
    sqlite_path: Path
    detection_ids: list[str]


def seed(
    database_url: str, count: int, tak_port: int | None = None, stale_after_seconds: int = 3600
) -> list[str]:
    """Ingest `count` detections through the real service; their outbox rows stay pending.

    The TAK destination is a port nobody listens on (as during an outage); retries back off
    at most a second, so the rows are due again soon after a restore, and the events stay
    fresh for `stale_after_seconds` (the service drops stale events instead of sending them).
    """
    down = {
        "DETECTION_API_TAK_DESTINATIONS": f"tcp://127.0.0.1:{tak_port or free_port()}",
        "DETECTION_API_DELIVERY_BACKOFF_MAX_SECONDS": "1",
        "DETECTION_API_STALE_AFTER_SECONDS": str(stale_after_seconds),
    }
    ids = []
    with (
        serving(database_url, down, timeout=60) as service,
        httpx.Client(base_url=service.url) as http,
    ):
        for index in range(count):
            body = smoke_detection(source=f"drill-{index % 4}")
            answer = http.post("/v1/detections", json=body, headers={"X-API-Key": DEV_KEY})
            if answer.status_code != httpx.codes.CREATED:
                raise OperatorError(
                    f"seeding failed: {answer.status_code} {answer.text}", "check the service"
                )
            ids.append(answer.json()["detection_id"])
    return ids


@contextmanager
def local_aws(environ: Mapping[str, str]) -> Iterator[None]:
    """Use the configured AWS endpoint, or start moto_server for the drill."""
    if environ.get("AWS_ENDPOINT_URL"):
        yield
        return
    with moto_server() as aws_env:
        saved = {key: os.environ.get(key) for key in aws_env}
        os.environ.update(aws_env)
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def drill(
    environ: Mapping[str, str], steps: Steps, reports: Path, *, detections: int = 20
) -> DrReport:
    server = environ.get("DETECTION_OPS_DRILL_SERVER_URL", DEFAULT_SERVER)
    tag = secrets.token_hex(4)
    source_name = f"drill_{tag}"
    with ExitStack() as cleanup, tempfile.TemporaryDirectory(prefix="dr-drill-") as scratch:
        cleanup.enter_context(local_aws(environ))
        bucket = provision(boto3.session.Session(), f"detection-api-drill-{tag}")
        with steps.step("prepare source (PostgreSQL + SQLite node)"):
            source_url = postgres.create_database(server, source_name).render_as_string(False)
            cleanup.callback(postgres.drop_database, server, source_name)
            sqlite_path = Path(scratch) / "node" / "detection-api.db"
            source = DrillSource(
                source_url,
                sqlite_path,
                seed(source_url, detections) + seed(f"sqlite:///{sqlite_path}", detections),
            )
        config = BackupConfig(
            environment="local-drill",
            bucket=bucket.bucket,
            kms_key_arn=bucket.kms_key_arn,
            region="us-east-1",
            database_url=source.database_url,
            sqlite_path=source.sqlite_path,
            scratch_url=server,
        )
        take_backups(config, steps)
        with steps.step("destroy (drop the database, delete the SQLite queue)"):
            postgres.drop_database(server, source_name)
            for path in source.sqlite_path.parent.iterdir():
                path.unlink()
        incident = datetime.now(UTC)
        restored_name = f"{source_name}_restored"
        cleanup.callback(postgres.drop_database, server, restored_name)
        restore_steps = Steps(run=f"{steps.run}-restore", console=steps.console, log=steps.log)
        outcome = restore(
            config,
            "latest",
            RestoreTarget(database_name=restored_name),
            restore_steps,
            started_at=incident,
            on_ready=lambda url: _read_back(url, source.detection_ids[0]),
        )
    report = outcome.report
    report.notes.append(
        f"source: PostgreSQL database {make_url(source.database_url).database} and a SQLite node "
        f"queue, {len(source.detection_ids)} detections with pending outbox rows"
    )
    json_path, markdown_path = report.write(reports)
    steps.event(
        "drill.report",
        json=str(json_path),
        markdown=str(markdown_path),
        rto_seconds=report.rto_seconds,
        rpo_seconds=report.rpo_seconds,
        passed=report.passed,
    )
    return report


def _read_back(url: str, detection_id: str) -> None:
    answer = httpx.get(f"{url}/v1/detections/{detection_id}", headers={"X-API-Key": DEV_KEY})
    if answer.status_code != httpx.codes.OK:
        raise OperatorError(
            f"restored service cannot read detection {detection_id}: {answer.status_code}",
            "the restore lost data: investigate before using it",
        )
