"""Where backups come from and go to, read from the environment (CronJob, CI or operator shell).

AWS endpoints come from the standard AWS_* variables (AWS_ENDPOINT_URL points boto3 at a local
emulator in tests and drills).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from detection_ops.deploy.steps import OperatorError

BUCKET = "DETECTION_OPS_BACKUP_BUCKET"
KMS_KEY = "DETECTION_OPS_BACKUP_KMS_KEY"
SQLITE_PATH = "DETECTION_OPS_SQLITE_PATH"
SCRATCH_URL = "DETECTION_OPS_SCRATCH_DATABASE_URL"
DATABASE_URL = "DETECTION_API_DATABASE_URL"
SSLMODE = "DETECTION_API_DATABASE_SSLMODE"  # as the service reads it (the chart sets it)


@dataclass(frozen=True)
class BackupConfig:
    environment: str
    bucket: str
    kms_key_arn: str
    region: str
    database_url: str | None = None  # PostgreSQL of the service
    sqlite_path: Path | None = None  # SQLite queue of an edge or local node
    scratch_url: str | None = None  # server where verification restores go
    iam_region: str | None = None  # RDS IAM authentication for pg_dump

    @classmethod
    def from_environ(cls, environment: str, environ: Mapping[str, str]) -> BackupConfig:
        missing = [name for name in (BUCKET, KMS_KEY) if not environ.get(name)]
        if missing:
            raise OperatorError(
                f"{' and '.join(missing)} not set",
                "export them from `terraform output` of infra/envs/<env> (backups bucket and key)",
            )
        url = environ.get(DATABASE_URL)
        database_url = url if url and make_url(url).get_backend_name() == "postgresql" else None
        if database_url and environ.get(SSLMODE) and "sslmode" not in make_url(database_url).query:
            database_url = (
                make_url(database_url)
                .update_query_dict({"sslmode": environ[SSLMODE]})
                .render_as_string(hide_password=False)
            )
        sqlite = environ.get(SQLITE_PATH)
        if sqlite is None and url and make_url(url).get_backend_name() == "sqlite":
            sqlite = make_url(url).database
        region = environ.get("AWS_REGION") or environ.get("DETECTION_API_AWS_REGION") or "us-east-1"
        iam = environ.get("DETECTION_API_DATABASE_IAM_AUTH", "").lower() in {"1", "true"}
        return cls(
            environment=environment,
            bucket=environ[BUCKET],
            kms_key_arn=environ[KMS_KEY],
            region=region,
            database_url=database_url,
            sqlite_path=Path(sqlite) if sqlite else None,
            scratch_url=environ.get(SCRATCH_URL) or database_url,
            iam_region=region if iam else None,
        )

    @property
    def scratch_iam_region(self) -> str | None:
        """IAM tokens for the verification server only when it is the source server (default)."""
        return self.iam_region if self.scratch_url == self.database_url else None

    def rds(self) -> Any:
        import boto3  # noqa: PLC0415 - slow import, only when talking to AWS

        return boto3.client("rds", region_name=self.region)

    def s3(self) -> Any:
        import boto3  # noqa: PLC0415 - slow import, only when talking to AWS

        return boto3.client("s3", region_name=self.region)
