"""`inv restore`: download, verify, restore PostgreSQL and the SQLite queue, migrate, bring the
service up, wait for /readyz, check rows against the manifest, and report RTO and RPO."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy.engine import make_url

from detection_api.settings import Settings
from detection_api.store import migrate
from detection_api.store.database import create_database_engine
from detection_ops.backup import postgres, sqlite
from detection_ops.backup.config import BackupConfig
from detection_ops.backup.manifest import Kind, Manifest, TableState
from detection_ops.backup.pitr import PitrRestore, restore_latest
from detection_ops.backup.report import DrReport
from detection_ops.backup.service import serving
from detection_ops.backup.store import BackupStore
from detection_ops.backup.verify import fetch_verified, require_same_tables
from detection_ops.deploy.steps import OperatorError, Steps

# Checked once the service is up. Tables it may legitimately change (a migration, the dev key)
# are left out: their exact content was compared right after the restore. The audit log is
# append-only, so a running service (its delivery worker) may only have added to it.
EXACT_TABLES = ("detections", "outbox")
APPEND_ONLY_TABLES = ("audit_events",)


@dataclass(frozen=True)
class RestoreTarget:
    in_place: bool = False  # restore over the configured database instead of a new one
    database_name: str | None = None  # name of the new database (default <db>_restored_<id>)
    sqlite_path: Path | None = None  # where the SQLite queue goes (default: the configured path)
    ready_timeout: float = 120.0
    service_env: Mapping[str, str] = field(default_factory=dict)  # e.g. TAK destinations
    pitr_instance: str | None = None  # RDS instance to restore at its latest restorable time
    pitr_timeout: float = 3600.0


@dataclass(frozen=True)
class Restored:
    report: DrReport
    database_url: str | None
    sqlite_path: Path | None


def _migrate(url: str) -> None:
    engine = create_database_engine(Settings(database_url=SecretStr(url)))
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()


def _require_rows(manifest: Manifest, actual: dict[str, TableState], where: str) -> None:
    problems = [
        f"{name}: {actual[name].rows} rows, the backup has {manifest.tables[name].rows}"
        for name in EXACT_TABLES
        if actual[name].rows != manifest.tables[name].rows
    ] + [
        f"{name}: {actual[name].rows} rows, fewer than the backup's {manifest.tables[name].rows}"
        for name in APPEND_ONLY_TABLES
        if actual[name].rows < manifest.tables[name].rows
    ]
    if problems:
        raise OperatorError(
            f"{where} differs from backup {manifest.backup_id}: {'; '.join(problems)}",
            "stop: the restore is incomplete; restore again or pick an earlier backup",
        )


def _check_rows(
    manifests: dict[str, Manifest], database_url: str | None, sqlite_path: Path | None
) -> None:
    if database_url:
        _require_rows(manifests["postgres"], postgres.table_states(database_url), "PostgreSQL")
    if sqlite_path is not None and "sqlite" in manifests:
        _require_rows(manifests["sqlite"], sqlite.table_states(sqlite_path), "SQLite")


def _restore_postgres(
    config: BackupConfig, manifest: Manifest, dump_file: Path, target: RestoreTarget
) -> str:
    assert config.database_url is not None  # noqa: S101 - only called with a database
    if target.in_place:
        url = make_url(config.database_url)
        postgres.restore(dump_file, url, clean=True)
    else:
        source_name = make_url(config.database_url).database or "detection_api"
        name = target.database_name or f"{source_name}_restored_{manifest.backup_id.lower()}"
        url = postgres.create_database(config.database_url, name)
        postgres.restore(dump_file, url)
    require_same_tables(manifest, postgres.table_states(url), f"database {url.database}")
    return url.render_as_string(hide_password=False)


def _kinds(config: BackupConfig, target: RestoreTarget, sqlite_target: Path | None) -> list[Kind]:
    kinds: list[Kind] = []
    if config.database_url and not target.pitr_instance:
        kinds.append("postgres")
    if sqlite_target is not None:
        kinds.append("sqlite")
    if not kinds and not target.pitr_instance:
        raise OperatorError(
            "nothing to restore into", "set DETECTION_API_DATABASE_URL or --sqlite-path"
        )
    return kinds


def _from_backups(
    config: BackupConfig, wanted: str, target: RestoreTarget, steps: Steps, kinds: list[Kind]
) -> tuple[dict[str, Manifest], str | None]:
    """Download, verify and restore the backups of `kinds`; returns manifests and the PG URL."""
    store = BackupStore(config.s3(), config.bucket, config.kms_key_arn)
    sqlite_target = target.sqlite_path or config.sqlite_path
    manifests: dict[str, Manifest] = {}
    database_url = None
    with tempfile.TemporaryDirectory(prefix="detection-restore-") as scratch:
        files = {}
        with steps.step("download and verify checksums", backup=wanted):
            for kind in kinds:
                manifests[kind] = store.manifest(kind, store.resolve(kind, wanted))
                files[kind] = fetch_verified(store, manifests[kind], Path(scratch))
        if "postgres" in manifests:
            with steps.step("restore postgresql", in_place=target.in_place):
                database_url = _restore_postgres(
                    config, manifests["postgres"], files["postgres"], target
                )
        if "sqlite" in manifests and sqlite_target is not None:
            with steps.step("restore sqlite queue", path=str(sqlite_target)):
                sqlite.restore(files["sqlite"], sqlite_target)
                require_same_tables(
                    manifests["sqlite"], sqlite.table_states(sqlite_target), str(sqlite_target)
                )
    return manifests, database_url


def _point_in_time(config: BackupConfig, target: RestoreTarget, steps: Steps) -> PitrRestore:
    assert target.pitr_instance is not None  # noqa: S101 - only called with --pitr
    if config.database_url is None:
        raise OperatorError("--pitr needs DETECTION_API_DATABASE_URL", "set the service's URL")
    restored = f"{target.pitr_instance}-pitr-{datetime.now(UTC):%Y%m%d%H%M%S}"
    with steps.step("RDS point-in-time restore", source=target.pitr_instance, target=restored):
        return restore_latest(config.rds(), target.pitr_instance, restored, target.pitr_timeout)


def restore(
    config: BackupConfig,
    wanted: str,
    target: RestoreTarget,
    steps: Steps,
    *,
    started_at: datetime | None = None,
    on_ready: Callable[[str], None] | None = None,
) -> Restored:
    """Restore backup `wanted` (an id or `latest`; with `target.pitr_instance` PostgreSQL comes
    from an RDS point-in-time restore instead); `on_ready` runs while the service is up."""
    started_at = started_at or datetime.now(UTC)
    sqlite_target = target.sqlite_path or config.sqlite_path
    manifests, database_url = _from_backups(
        config, wanted, target, steps, _kinds(config, target, sqlite_target)
    )
    pitr = _point_in_time(config, target, steps) if target.pitr_instance else None
    if pitr is not None and config.database_url:
        database_url = pitr.database_url(config.database_url)
    sqlite_url = f"sqlite:///{sqlite_target}" if sqlite_target else None
    with steps.step("run migrations"):
        for url in filter(None, (database_url, sqlite_url)):
            _migrate(url)
    service_url = database_url or sqlite_url
    assert service_url is not None  # noqa: S101 - at least one kind was restored
    with ExitStack() as stack:
        with steps.step("bring the service up and wait for /readyz"):
            service = stack.enter_context(
                serving(service_url, target.service_env, target.ready_timeout)
            )
        ready_at = datetime.now(UTC)
        with steps.step("check row counts against the manifest"):
            _check_rows(manifests, database_url if pitr is None else None, sqlite_target)
        if on_ready is not None:
            on_ready(service.url)
    report = build_report(
        config,
        manifests=manifests,
        pitr=pitr,
        started_at=started_at,
        ready_at=ready_at,
        steps=steps,
    )
    steps.event(
        "restore.done",
        database_url=database_url and make_url(database_url).render_as_string(),
        sqlite_path=str(sqlite_target),
        rto_seconds=report.rto_seconds,
        rpo_seconds=report.rpo_seconds,
    )
    return Restored(report, database_url, sqlite_target)


def build_report(
    config: BackupConfig,
    *,
    manifests: dict[str, Manifest],
    pitr: PitrRestore | None,
    started_at: datetime,
    ready_at: datetime,
    steps: Steps,
) -> DrReport:
    """RPO counts from the oldest data restored: a backup's time or the RDS restorable time."""
    points = [
        (m.created_at, m.backup_id, "restore start minus the backup's time")
        for m in manifests.values()
    ]
    if pitr is not None:
        points.append(
            (
                pitr.restorable_time,
                pitr.instance,
                "restore start minus the RDS latest restorable time",
            )
        )
    data_time, name, basis = min(points)
    return DrReport(
        environment=config.environment,
        backup_id=name,
        backup_created_at=data_time,
        started_at=started_at,
        ready_at=ready_at,
        phases=list(steps.timings),
        rpo_basis=basis,
    )
