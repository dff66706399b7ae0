"""The backups bucket: uploads encrypted with the customer KMS key, downloads that refuse any
object not encrypted with exactly that key (a backup someone else wrote is not ours to restore).

Layout: <kind>/<backup id>/<artifact> and <kind>/<backup id>/manifest.json. Retention is the
bucket's lifecycle rules (Terraform module infra/modules/backups), never a deletion loop here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

from detection_ops.backup.manifest import Kind, Manifest
from detection_ops.deploy.steps import PROGRESS_CONSOLE, OperatorError

MANIFEST = "manifest.json"


def _progress() -> Progress:
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        transient=True,
        console=PROGRESS_CONSOLE,
    )


@dataclass(frozen=True)
class BackupStore:
    s3: Any  # boto3 S3 client (boto3 ships no type information)
    bucket: str
    kms_key_arn: str

    def _encryption(self) -> dict[str, str]:
        return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.kms_key_arn}

    def upload(self, path: Path, manifest: Manifest) -> str:
        """Upload the artifact, then the manifest (a manifest only exists for a complete upload)."""
        key = manifest.prefix + manifest.artifact.name
        with _progress() as progress:
            task = progress.add_task(f"upload {key}", total=path.stat().st_size)
            self.s3.upload_file(
                str(path),
                self.bucket,
                key,
                ExtraArgs={**self._encryption(), "ChecksumAlgorithm": "SHA256"},
                Callback=lambda sent: progress.advance(task, sent),
            )
        self.s3.put_object(
            Bucket=self.bucket,
            Key=manifest.prefix + MANIFEST,
            Body=manifest.to_json().encode(),
            ContentType="application/json",
            **self._encryption(),
        )
        return key

    def _require_our_key(self, key: str) -> None:
        head = self._head(key)
        used = head.get("SSEKMSKeyId")
        if head.get("ServerSideEncryption") != "aws:kms" or used != self.kms_key_arn:
            raise OperatorError(
                f"s3://{self.bucket}/{key} is encrypted with {used or 'no KMS key'}, "
                f"not the backup key {self.kms_key_arn}: refusing to restore it",
                "check DETECTION_OPS_BACKUP_KMS_KEY and who wrote this object",
            )

    def _head(self, key: str) -> dict[str, Any]:
        try:
            head: dict[str, Any] = self.s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            raise OperatorError(
                f"s3://{self.bucket}/{key} cannot be read: {error}",
                "list the backups with `inv restore --env <env> --backup list`",
            ) from error
        return head

    def manifest(self, kind: Kind, backup_id: str) -> Manifest:
        key = f"{kind}/{backup_id}/{MANIFEST}"
        self._require_our_key(key)
        body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return Manifest.from_json(body.decode())

    def download(self, manifest: Manifest, destination: Path) -> Path:
        key = manifest.prefix + manifest.artifact.name
        self._require_our_key(key)
        target = destination / manifest.artifact.name
        with _progress() as progress:
            task = progress.add_task(f"download {key}", total=manifest.artifact.size)
            self.s3.download_file(
                self.bucket, key, str(target), Callback=lambda got: progress.advance(task, got)
            )
        return target

    def backup_ids(self, kind: Kind) -> list[str]:
        """Ids of the complete backups (those with a manifest), oldest first."""
        paginator = self.s3.get_paginator("list_objects_v2")
        ids = set()
        for page in paginator.paginate(Bucket=self.bucket, Prefix=f"{kind}/"):
            for item in page.get("Contents", []):
                parts = item["Key"].split("/")
                if len(parts) == 3 and parts[2] == MANIFEST:
                    ids.add(parts[1])
        return sorted(ids)

    def resolve(self, kind: Kind, wanted: str) -> str:
        ids = self.backup_ids(kind)
        if wanted == "latest":
            if not ids:
                raise OperatorError(
                    f"no {kind} backup in s3://{self.bucket}", "run `inv backup --env <env>` first"
                )
            return ids[-1]
        if wanted not in ids:
            raise OperatorError(
                f"no {kind} backup {wanted!r} in s3://{self.bucket}",
                f"pick one of the newest: {', '.join(ids[-5:]) or 'none'}",
            )
        return wanted
