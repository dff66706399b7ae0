"""Proof that a stored backup restores: download, checksum, restore into scratch, compare tables."""

from __future__ import annotations

import secrets
from pathlib import Path

from detection_ops.backup import postgres, sqlite
from detection_ops.backup.manifest import Manifest, TableState, sha256_file, table_mismatches
from detection_ops.backup.store import BackupStore
from detection_ops.deploy.steps import OperatorError


def fetch_verified(store: BackupStore, manifest: Manifest, work: Path) -> Path:
    """Download the artifact and refuse it unless size and SHA-256 match the manifest."""
    path = store.download(manifest, work)
    size, digest = path.stat().st_size, sha256_file(path)
    if (size, digest) != (manifest.artifact.size, manifest.artifact.sha256):
        raise OperatorError(
            f"{manifest.prefix}{manifest.artifact.name} is corrupted: {size} bytes sha256 "
            f"{digest}, the manifest says {manifest.artifact.size} bytes sha256 "
            f"{manifest.artifact.sha256}",
            "restore an earlier backup (`--backup <id>`) and investigate the bucket",
        )
    return path


def require_same_tables(manifest: Manifest, actual: dict[str, TableState], where: str) -> None:
    problems = table_mismatches(manifest.tables, actual)
    if problems:
        raise OperatorError(
            f"{where} does not match backup {manifest.backup_id}: {'; '.join(problems)}",
            "do not use this restore; try an earlier backup and investigate",
        )


def verify_postgres(
    store: BackupStore,
    manifest: Manifest,
    server_url: str,
    work: Path,
    *,
    iam_region: str | None = None,
) -> None:
    dump_file = fetch_verified(store, manifest, work)
    name = f"verify_{manifest.backup_id.lower()}_{secrets.token_hex(3)}"
    scratch = postgres.create_database(server_url, name, iam_region=iam_region)
    try:
        postgres.restore(dump_file, scratch, iam_region=iam_region)
        states = postgres.table_states(scratch, iam_region=iam_region)
        require_same_tables(manifest, states, f"scratch database {name}")
    finally:
        postgres.drop_database(server_url, name, iam_region=iam_region)


def verify_sqlite(store: BackupStore, manifest: Manifest, work: Path) -> None:
    snapshot_file = fetch_verified(store, manifest, work)
    scratch = work / f"verify-{manifest.backup_id}.db"
    sqlite.restore(snapshot_file, scratch)
    require_same_tables(manifest, sqlite.table_states(scratch), f"scratch copy {scratch.name}")
