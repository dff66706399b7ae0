"""API keys for machine senders: random, shown once, stored as a peppered HMAC, scoped, expiring."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update

from detection_api.store.database import write_transaction
from detection_api.store.schema import api_keys, audit_events

KEY_PREFIX = "dak"
SCOPES = frozenset({"detections:write", "detections:read", "admin"})


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    prefix: str
    scopes: frozenset[str]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


class KeyRejectedError(Exception):
    """The presented key cannot authenticate; `reason` is safe to show and to count."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class ApiKeyStore:
    engine: Engine
    pepper: bytes

    def _hash(self, key: str) -> str:
        return hmac.new(self.pepper, key.encode(), hashlib.sha256).hexdigest()

    def create(
        self,
        name: str,
        scopes: frozenset[str],
        expires_at: datetime | None,
        principal: str,
        *,
        key: str | None = None,
    ) -> tuple[ApiKey, str]:
        """Create a key; return its record and the plaintext, which is never stored."""
        unknown = scopes - SCOPES
        if unknown:
            raise ValueError(f"unknown scopes: {sorted(unknown)}")
        prefix = secrets.token_hex(6)
        plaintext = key or f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
        if key is not None:
            prefix = parse_prefix(key)
        now = datetime.now(UTC)
        row = {
            "id": str(uuid.uuid4()),
            "name": name,
            "prefix": prefix,
            "key_hash": self._hash(plaintext),
            "scopes": sorted(scopes),
            "created_at": now,
            "expires_at": expires_at,
        }
        with write_transaction(self.engine) as connection:
            connection.execute(insert(api_keys), [row])
            connection.execute(insert(audit_events), [_audit("key_created", principal, row, now)])
        return _record(row), plaintext

    def list(self) -> list[ApiKey]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(api_keys).order_by(api_keys.c.created_at))
            return [_record(dict(row._mapping)) for row in rows]

    def revoke(self, key_id: str, principal: str) -> ApiKey | None:
        now = datetime.now(UTC)
        with write_transaction(self.engine) as connection:
            result = connection.execute(
                update(api_keys)
                .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=now)
                .returning(*api_keys.c)
            ).first()
            if result is None:
                return None
            row = dict(result._mapping)
            connection.execute(insert(audit_events), [_audit("key_revoked", principal, row, now)])
        return _record(row)

    def authenticate(self, key: str, now: datetime) -> ApiKey:
        """The key's record if it is valid now; raises KeyRejectedError with the reason."""
        try:
            prefix = parse_prefix(key)
        except ValueError:
            raise KeyRejectedError("malformed") from None
        with self.engine.connect() as connection:
            found = connection.execute(select(api_keys).where(api_keys.c.prefix == prefix)).first()
        if found is None or not hmac.compare_digest(found.key_hash, self._hash(key)):
            raise KeyRejectedError("unknown")
        record = _record(dict(found._mapping))
        if record.revoked_at is not None:
            raise KeyRejectedError("revoked")
        if record.is_expired(now):
            raise KeyRejectedError("expired")
        return record

    def touch(self, key_id: str, now: datetime) -> None:
        with write_transaction(self.engine) as connection:
            connection.execute(
                update(api_keys).where(api_keys.c.id == key_id).values(last_used_at=now)
            )


def parse_prefix(key: str) -> str:
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        raise ValueError("API keys look like dak_<prefix>_<secret>")
    return parts[1]


def _record(row: dict[str, Any]) -> ApiKey:
    return ApiKey(
        id=row["id"],
        name=row["name"],
        prefix=row["prefix"],
        scopes=frozenset(row["scopes"]),
        created_at=row["created_at"],
        expires_at=row.get("expires_at"),
        revoked_at=row.get("revoked_at"),
        last_used_at=row.get("last_used_at"),
    )


def _audit(kind: str, principal: str, row: dict[str, Any], at: datetime) -> dict[str, Any]:
    details = {"key_id": row["id"], "name": row["name"], "scopes": list(row["scopes"])}
    return {"at": at, "kind": kind, "principal": principal, "details": details}
