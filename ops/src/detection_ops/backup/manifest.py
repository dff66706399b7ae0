"""What a backup contains, written next to it: checksums, sizes, schema version, source, time.

The per-table row counts and content checksums are what a restore is checked against.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

Kind = Literal["postgres", "sqlite"]
CHUNK = 1 << 20
# The service's tables, counted and checksummed in every backup.
TABLES = ("detections", "outbox", "audit_events", "api_keys", "alembic_version")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def new_backup_id(now: datetime | None = None) -> str:
    """Sortable UTC id, e.g. 20261203T174502Z (the newest backup sorts last)."""
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")


@dataclass(frozen=True)
class TableState:
    rows: int
    checksum: str


@dataclass(frozen=True)
class Artifact:
    name: str
    size: int
    sha256: str

    @classmethod
    def of(cls, path: Path) -> Artifact:
        return cls(name=path.name, size=path.stat().st_size, sha256=sha256_file(path))


@dataclass(frozen=True)
class Manifest:
    backup_id: str
    kind: Kind
    environment: str
    source: str
    created_at: datetime
    schema_version: str | None
    artifact: Artifact
    tables: dict[str, TableState]
    tool: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def prefix(self) -> str:
        return f"{self.kind}/{self.backup_id}/"

    def to_json(self) -> str:
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        return json.dumps(data, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        return cls(
            backup_id=data["backup_id"],
            kind=data["kind"],
            environment=data["environment"],
            source=data["source"],
            created_at=datetime.fromisoformat(data["created_at"]),
            schema_version=data["schema_version"],
            artifact=Artifact(**data["artifact"]),
            tables={name: TableState(**state) for name, state in data["tables"].items()},
            tool=data["tool"],
            extra=data.get("extra", {}),
        )


def table_mismatches(expected: dict[str, TableState], actual: dict[str, TableState]) -> list[str]:
    """Human-readable differences between two table states (empty when identical)."""
    problems = []
    for name, want in expected.items():
        got = actual.get(name)
        if got is None:
            problems.append(f"{name}: missing")
        elif got.rows != want.rows:
            problems.append(f"{name}: {got.rows} rows, the backup has {want.rows}")
        elif got.checksum != want.checksum:
            problems.append(f"{name}: content checksum differs from the backup")
    return problems
