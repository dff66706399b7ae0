"""`inv backup`: dump, snapshot, manifest, encrypted upload, then verification of what landed."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from detection_ops.backup import postgres, sqlite
from detection_ops.backup.config import BackupConfig
from detection_ops.backup.manifest import Artifact, Manifest, new_backup_id
from detection_ops.backup.store import BackupStore
from detection_ops.backup.verify import verify_postgres, verify_sqlite
from detection_ops.deploy.steps import OperatorError, Steps


def backup_postgres(config: BackupConfig, work: Path, backup_id: str, steps: Steps) -> Manifest:
    assert config.database_url is not None  # noqa: S101 - checked by the caller
    dump_file = work / "detection-api.dump"
    with steps.step("pg_dump", database=make_url(config.database_url).database):
        # Counted just before the dump: a busy database may gain rows during the dump, never lose.
        created_at = datetime.now(UTC)
        tables = postgres.table_states(config.database_url, iam_region=config.iam_region)
        tool = postgres.dump(config.database_url, dump_file, iam_region=config.iam_region)
    return Manifest(
        backup_id=backup_id,
        kind="postgres",
        environment=config.environment,
        source=make_url(config.database_url).render_as_string(hide_password=True),
        created_at=created_at,
        schema_version=postgres.schema_version(config.database_url, iam_region=config.iam_region),
        artifact=Artifact.of(dump_file),
        tables=tables,
        tool=tool,
    )


def backup_sqlite(config: BackupConfig, work: Path, backup_id: str, steps: Steps) -> Manifest:
    assert config.sqlite_path is not None  # noqa: S101 - checked by the caller
    snapshot_file = work / "detection-api.db"
    with steps.step("sqlite snapshot", path=str(config.sqlite_path)):
        created_at = datetime.now(UTC)
        sqlite.snapshot(config.sqlite_path, snapshot_file)
    return Manifest(
        backup_id=backup_id,
        kind="sqlite",
        environment=config.environment,
        source=str(config.sqlite_path),
        created_at=created_at,
        schema_version=sqlite.schema_version(snapshot_file),
        artifact=Artifact.of(snapshot_file),
        tables=sqlite.table_states(snapshot_file),
        tool="sqlite3 online backup API",
    )


def take_backups(config: BackupConfig, steps: Steps, *, verify: bool = True) -> list[Manifest]:
    """Back up every configured database; each upload is verified unless `verify` is off."""
    if config.database_url is None and config.sqlite_path is None:
        raise OperatorError(
            "nothing to back up: no PostgreSQL DETECTION_API_DATABASE_URL and no SQLite path",
            "set DETECTION_API_DATABASE_URL or DETECTION_OPS_SQLITE_PATH",
        )
    store = BackupStore(config.s3(), config.bucket, config.kms_key_arn)
    backup_id = new_backup_id()
    manifests = []
    with tempfile.TemporaryDirectory(prefix="detection-backup-") as scratch:
        work = Path(scratch)
        if config.database_url:
            manifests.append(backup_postgres(config, work, backup_id, steps))
        if config.sqlite_path:
            manifests.append(backup_sqlite(config, work, backup_id, steps))
        for manifest in manifests:
            with steps.step(f"upload {manifest.kind}", bucket=config.bucket):
                store.upload(work / manifest.artifact.name, manifest)
    if verify:
        with tempfile.TemporaryDirectory(prefix="detection-verify-") as scratch:
            for manifest in manifests:
                with steps.step(f"verify {manifest.kind}", backup=backup_id):
                    if manifest.kind == "postgres":
                        assert config.scratch_url is not None  # noqa: S101 - set with the URL
                        verify_postgres(
                            store,
                            manifest,
                            config.scratch_url,
                            Path(scratch),
                            iam_region=config.scratch_iam_region,
                        )
                    else:
                        verify_sqlite(store, manifest, Path(scratch))
    for manifest in manifests:
        steps.event(
            "backup.stored",
            backup=backup_id,
            kind=manifest.kind,
            key=manifest.prefix + manifest.artifact.name,
            size=manifest.artifact.size,
            sha256=manifest.artifact.sha256,
            rows={name: state.rows for name, state in manifest.tables.items()},
        )
    return manifests
