"""S3 and KMS on this machine for drills and tests: `moto_server` on 127.0.0.1, a customer KMS
key and a bucket encrypted with it by default (as infra/modules/backups creates in AWS)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from detection_ops.deploy.steps import OperatorError
from detection_ops.localserver import LocalServer, free_port
from detection_ops.tools.specs import find_repo_root

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def find_moto_server() -> str:
    tools = find_repo_root(Path.cwd()) / ".tools" / "bin"
    found = shutil.which("moto_server", path=f"{tools}{os.pathsep}{os.environ.get('PATH', '')}")
    if found is None:
        raise OperatorError("moto_server not found", "run `uv run inv tools` to install it")
    return found


@contextmanager
def moto_server(timeout: float = 30.0) -> Iterator[dict[str, str]]:
    """Run moto_server on a free loopback port; yields the AWS_* environment that reaches it."""
    port = free_port()
    command = [find_moto_server(), "-H", "127.0.0.1", "-p", str(port)]
    with LocalServer(
        "moto_server",
        command,
        port,
        ready_path="/moto-api/",
        start_timeout=timeout,
        stop_grace=10,
        next_step="run moto_server by hand to see why",
    ) as server:
        yield {**FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": server.url}


@dataclass(frozen=True)
class BackupBucket:
    bucket: str
    kms_key_arn: str


def provision(session: Any, bucket: str) -> BackupBucket:
    """A customer KMS key and a bucket whose default encryption is SSE-KMS with it."""
    kms, s3 = session.client("kms"), session.client("s3")
    key_arn: str = kms.create_key(Description=f"{bucket} backups")["KeyMetadata"]["Arn"]
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": key_arn,
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    return BackupBucket(bucket, key_arn)
