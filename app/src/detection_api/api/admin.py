"""`/v1/admin/api-keys`: create (the key is shown once), list and revoke API keys."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Response
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from detection_api.api.problems import AUTHENTICATED, PROBLEM, ProblemError, invalid
from detection_api.api.schemas import Name, Strict, Timestamp
from detection_api.api.services import Admin, ServicesDep
from detection_api.store.api_keys import ApiKey

router = APIRouter(prefix="/v1/admin", tags=["admin"], responses=AUTHENTICATED)
Scope = Literal["detections:write", "detections:read", "admin"]


class ApiKeyIn(Strict):
    name: Name
    scopes: Annotated[list[Scope], Field(min_length=1, max_length=3)]
    expires_at: Timestamp | None = None


class ApiKeyOut(Strict):
    id: UUID
    name: str
    prefix: str
    scopes: list[Scope]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="the secret key; shown only in this answer")


class ApiKeyList(Strict):
    items: list[ApiKeyOut]


@router.post("/api-keys", status_code=201, response_model=ApiKeyCreated, responses={422: PROBLEM})
async def create_api_key(body: ApiKeyIn, principal: Admin, found: ServicesDep) -> dict[str, Any]:
    if body.expires_at is not None and body.expires_at <= datetime.now(UTC):
        raise invalid([{"code": "invalid_field", "field": "expires_at", "reason": "in the past"}])
    record, key = await run_in_threadpool(
        found.keys.create, body.name, frozenset(body.scopes), body.expires_at, principal.name
    )
    return {**key_body(record), "key": key}


@router.get("/api-keys", response_model=ApiKeyList)
async def list_api_keys(_: Admin, found: ServicesDep) -> dict[str, Any]:
    records = await run_in_threadpool(found.keys.list)
    return {"items": [key_body(record) for record in records]}


@router.delete("/api-keys/{key_id}", status_code=204, responses={404: PROBLEM})
async def revoke_api_key(key_id: UUID, principal: Admin, found: ServicesDep) -> Response:
    record = await run_in_threadpool(found.keys.revoke, str(key_id), principal.name)
    if record is None:
        raise ProblemError(404, "not_found", "no active API key with this id", field="key_id")
    found.authenticator.forget_keys()
    return Response(status_code=204)


def key_body(record: ApiKey) -> dict[str, Any]:
    return {
        "id": record.id,
        "name": record.name,
        "prefix": record.prefix,
        "scopes": sorted(record.scopes),
        "created_at": record.created_at,
        "expires_at": record.expires_at,
        "revoked_at": record.revoked_at,
        "last_used_at": record.last_used_at,
    }
