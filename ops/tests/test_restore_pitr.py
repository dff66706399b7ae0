"""RDS point-in-time restore against moto_server's RDS: a new instance at the latest restorable
time with the source's settings, the URL pointed at it, and the RPO measured from that time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import boto3
import pytest

from detection_ops.backup.config import BackupConfig
from detection_ops.backup.localaws import moto_server
from detection_ops.backup.pitr import restore_latest
from detection_ops.backup.restore import build_report
from detection_ops.deploy.steps import OperatorError, Steps


@pytest.fixture(scope="module")
def aws_env(require_tool) -> Iterator[dict[str, str]]:
    require_tool("moto_server")
    with moto_server() as env:
        yield env


@pytest.fixture
def rds(aws_env, monkeypatch):
    for key, value in aws_env.items():
        monkeypatch.setenv(key, value)
    found = boto3.client("rds")
    found.create_db_instance(
        DBInstanceIdentifier="detection-api-production",
        Engine="postgres",
        DBInstanceClass="db.r6g.large",
        MasterUsername="postgres",
        MasterUserPassword="not-a-real-password",
        AllocatedStorage=100,
        MultiAZ=True,
        EnableIAMDatabaseAuthentication=True,
    )
    yield found
    for instance in found.describe_db_instances()["DBInstances"]:
        found.delete_db_instance(
            DBInstanceIdentifier=instance["DBInstanceIdentifier"], SkipFinalSnapshot=True
        )


def test_restores_a_new_instance_with_the_source_settings(rds):
    restored = restore_latest(
        rds, "detection-api-production", "detection-api-production-pitr-1", 60
    )
    assert restored.instance == "detection-api-production-pitr-1"
    assert restored.host.startswith("detection-api-production-pitr-1.")
    described = rds.describe_db_instances(DBInstanceIdentifier=restored.instance)["DBInstances"][0]
    assert described["DBInstanceStatus"] == "available"
    assert described["MultiAZ"] is True
    assert described["IAMDatabaseAuthenticationEnabled"] is True
    url = restored.database_url(
        "postgresql://detection_api@old.rds.amazonaws.com:5432/detection_api?sslmode=verify-full"
    )
    assert url == (
        f"postgresql://detection_api@{restored.host}:{restored.port}/detection_api?sslmode=verify-full"
    )


def test_rpo_counts_from_the_latest_restorable_time(rds):
    restored = restore_latest(
        rds, "detection-api-production", "detection-api-production-pitr-2", 60
    )
    started = restored.restorable_time + timedelta(minutes=4)
    config = BackupConfig("production", "bucket", "arn:key", "us-east-1")
    report = build_report(
        config,
        manifests={},
        pitr=restored,
        started_at=started,
        ready_at=started + timedelta(minutes=12),
        steps=Steps(run="test"),
    )
    assert (report.rpo_seconds, report.rto_seconds) == (240, 720)
    assert report.rpo_basis == "restore start minus the RDS latest restorable time"
    assert report.backup_id == "detection-api-production-pitr-2"
    assert report.passed


def test_unknown_instance_is_a_clear_error(rds):
    with pytest.raises(OperatorError, match="RDS instance nope not found"):
        restore_latest(rds, "nope", "nope-pitr", 60)
