"""`/v1/detections`: ingest one or a batch, read one, list with keyset pagination."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import orjson
from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from detection_api.api.ingest import ItemError, OutboxFullError, Outcome, Stored, Submission
from detection_api.api.present import detection_body
from detection_api.api.problems import (
    AUTHENTICATED,
    PROBLEM,
    ProblemError,
    invalid,
    validation_problems,
)
from detection_api.api.schemas import (
    BatchIn,
    BatchOut,
    DetectionIn,
    DetectionOut,
    DetectionPage,
    Problem,
    Timestamp,
)
from detection_api.api.services import Reader, Services, ServicesDep, Writer
from detection_api.store.detections import PageQuery, decode_cursor, encode_cursor

JSON_TYPES = {"application/json", "application/problem+json"}
router = APIRouter(prefix="/v1", tags=["detections"], responses=AUTHENTICATED)
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=128,
        description="makes retries safe: one key from one caller always names one detection",
    ),
]


def _json_body(model: type[BaseModel]) -> dict[str, Any]:
    """OpenAPI for a body the endpoint parses itself (pydantic's JSON parser, no detour)."""
    schema = {"$ref": f"#/components/schemas/{model.__name__}"}
    content = {"application/json": {"schema": schema}}
    return {"requestBody": {"required": True, "content": content}}


async def _parse[ModelT: BaseModel](request: Request, model: type[ModelT]) -> ModelT:
    if request.headers.get("content-type", "application/json").split(";")[0] not in JSON_TYPES:
        raise ProblemError(415, "unsupported_media_type", "send the body as application/json")
    try:
        return model.model_validate_json(await request.body())
    except ValidationError as error:
        problems = validation_problems(error.errors(include_url=False))
        if any(p["code"] == "json_invalid" for p in problems):
            raise ProblemError(400, "malformed_json", "body is not valid JSON") from None
        raise invalid(problems) from None


def _json(body: Any, status: int, headers: dict[str, str] | None = None) -> Response:
    content = orjson.dumps(body, option=orjson.OPT_UTC_Z)
    return Response(content, status_code=status, headers=headers, media_type="application/json")


@router.post(
    "/detections",
    status_code=201,
    summary="Ingest one detection",
    responses={201: {"model": DetectionOut}, 409: PROBLEM, 503: PROBLEM},
    openapi_extra=_json_body(DetectionIn),
)
async def create_detection(
    request: Request, principal: Writer, found: ServicesDep, idempotency_key: IdempotencyKey = None
) -> Response:
    body = await _parse(request, DetectionIn)
    [outcome] = await _ingest(found, Submission.of([body], principal.name, idempotency_key))
    if isinstance(outcome, ItemError):
        problem = {"code": outcome.code, "field": outcome.field, "reason": outcome.reason}
        if outcome.status == 422:
            raise invalid([problem])
        raise ProblemError(outcome.status, outcome.code, outcome.reason, field=outcome.field)
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
    return _json(detection_body(outcome.row), 201, headers)


@router.post(
    "/detections:batch",
    status_code=207,
    summary="Ingest a batch of detections in one transaction",
    description=(
        "A batch that violates the schema is refused whole (422, every invalid field listed). "
        "Items the engine or the policy refuses (pixel outside the image, unknown class, a reused "
        "detection_id) are reported per item; the others are stored in one transaction."
    ),
    responses={207: {"model": BatchOut}, 503: PROBLEM},
    openapi_extra=_json_body(BatchIn),
)
async def create_detections(
    request: Request, principal: Writer, found: ServicesDep, idempotency_key: IdempotencyKey = None
) -> Response:
    body = await _parse(request, BatchIn)
    if len(body.items) > found.settings.max_batch_items:
        reason = f"at most {found.settings.max_batch_items} items per batch"
        raise invalid([_field_problem("items", reason)])
    outcomes = await _ingest(found, Submission.of(body.items, principal.name, idempotency_key))
    return _json({"results": [_item_result(i, o) for i, o in enumerate(outcomes)]}, 207)


@router.get(
    "/detections/{detection_id}",
    summary="One detection with its accuracy and delivery state",
    response_model=DetectionOut,
    responses={404: PROBLEM},
)
async def get_detection(detection_id: UUID, _: Reader, found: ServicesDep) -> dict[str, Any]:
    key = str(detection_id)
    rows = await run_in_threadpool(found.detections.get_many, [key])
    if key not in rows:
        raise ProblemError(404, "not_found", "no detection with this id", field="detection_id")
    return detection_body(rows[key])


@router.get(
    "/detections",
    summary="Detections received in a time range, oldest first (keyset pagination)",
    response_model=DetectionPage,
    responses={422: PROBLEM},
)
async def list_detections(
    _: Reader,
    found: ServicesDep,
    *,
    since: Annotated[Timestamp | None, Query(description="received at or after")] = None,
    until: Annotated[Timestamp | None, Query(description="received before")] = None,
    flag: Annotated[Literal["GREEN", "YELLOW", "RED"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=5_000)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    if limit > found.settings.max_page_size:
        raise invalid([_field_problem("limit", f"at most {found.settings.max_page_size}")])
    query = PageQuery(since=since, until=until, flag=flag, limit=limit, cursor=_cursor(cursor))
    rows = await run_in_threadpool(found.detections.page, query)
    next_cursor = None
    if len(rows) == limit:
        last = rows[-1]
        next_cursor = encode_cursor(last["received_at"], last["id"])
    return {"items": [detection_body(r) for r in rows], "next_cursor": next_cursor}


async def _ingest(found: Services, submissions: list[Submission]) -> list[Outcome]:
    try:
        return await found.group_commit.submit(submissions)
    except OutboxFullError:
        found.metrics.rejections.labels("outbox_full").inc()
        retry_after = str(found.settings.retry_after_seconds)
        raise ProblemError(
            503, "outbox_full", "the delivery queue is at its cap; retry later",
            headers={"Retry-After": retry_after},
        ) from None  # fmt: skip


def _item_result(index: int, outcome: Outcome) -> dict[str, Any]:
    if isinstance(outcome, Stored):
        return {"index": index, "status": 201, "detection": detection_body(outcome.row)}
    error = {"code": outcome.code, "field": outcome.field, "reason": outcome.reason}
    return {"index": index, "status": outcome.status, "error": error}


def _field_problem(field: str, reason: str) -> dict[str, Any]:
    return {"code": "invalid_field", "field": field, "reason": reason}


def _cursor(cursor: str | None) -> tuple[datetime, str] | None:
    if cursor is None:
        return None
    try:
        return decode_cursor(cursor)
    except ValueError as error:
        raise invalid([_field_problem("cursor", str(error))]) from None


# Registered in the OpenAPI components by the app factory: problem answers use their own media
# type, which FastAPI's `responses` models cannot express.
OPENAPI_MODELS = (Problem, DetectionIn, BatchIn)
