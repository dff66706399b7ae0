"""SQLite node databases (edge or laptop): online snapshots and restores.

A live WAL database is never copied as a file: the last commits may sit in the -wal file and a
copy taken mid-checkpoint is torn. SQLite's online backup API copies a consistent snapshot
while the service keeps writing.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from contextlib import closing
from pathlib import Path

from detection_ops.backup.manifest import TABLES, TableState
from detection_ops.deploy.steps import OperatorError

PAGES_PER_STEP = 256
SIDE_FILES = ("-wal", "-shm", "-journal")


def _open_read_only(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise OperatorError(f"SQLite database {path} does not exist", "check --sqlite-path")
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def snapshot(source: Path, destination: Path) -> None:
    """Copy a consistent snapshot of a live database with the online backup API."""
    with closing(_open_read_only(source)) as src, closing(sqlite3.connect(destination)) as dst:
        src.backup(dst, pages=PAGES_PER_STEP)
        # A self-contained file: no WAL next to it, so it can be uploaded and checksummed alone.
        dst.execute("PRAGMA journal_mode=DELETE")
        check = dst.execute("PRAGMA integrity_check").fetchone()[0]
    if check != "ok":
        raise OperatorError(f"snapshot of {source} fails integrity_check: {check}", "retry")


def table_states(path: Path) -> dict[str, TableState]:
    """Row count and an order-independent content checksum of every service table."""
    states = {}
    with closing(_open_read_only(path)) as connection:
        for table in TABLES:
            rows = connection.execute(f"SELECT * FROM {table}").fetchall()  # noqa: S608 - fixed names
            digest = hashlib.sha256()
            for line in sorted(repr(row) for row in rows):
                digest.update(line.encode() + b"\n")
            states[table] = TableState(rows=len(rows), checksum=digest.hexdigest())
    return states


def schema_version(path: Path) -> str | None:
    with closing(_open_read_only(path)) as connection:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    return None if row is None else str(row[0])


def restore(snapshot_file: Path, target: Path) -> None:
    """Put a snapshot in place atomically; stale -wal/-shm files of a destroyed database go."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(target.name + ".restoring")
    with closing(_open_read_only(snapshot_file)) as src, closing(sqlite3.connect(staging)) as dst:
        src.backup(dst, pages=PAGES_PER_STEP)
    for suffix in SIDE_FILES:
        target.with_name(target.name + suffix).unlink(missing_ok=True)
    os.replace(staging, target)
