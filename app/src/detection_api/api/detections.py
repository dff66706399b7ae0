"""`/v1/detections`: ingest one or a batch, read one, list with keyset pagination."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import orjson
from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import AwareDatetime, TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool

from detection_api.api.ingest import ItemError, OutboxFullError, Outcome, Stored
from detection_api.api.present import detection_body
from detection_api.api.problems import ProblemError, invalid, validation_problems
from detection_api.api.schemas import (
    BatchIn,
    BatchOut,
    DetectionIn,
    DetectionOut,
    DetectionPage,
    ProblemItem,
)
from detection_api.api.services import Reader, Services, ServicesDep, Writer
from detection_api.store.detections import PageQuery, decode_cursor, encode_cursor

router = APIRouter(prefix="/v1", tags=["detections"])
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=128,
        description="makes retries safe: one key from one caller always names one detection",
    ),
]
PROBLEM = {"content": {"application/problem+json": {"schema": {"type": "object"}}}}
_item = TypeAdapter(DetectionIn)


@router.post(
    "/detections",
    status_code=201,
    summary="Ingest one detection",
    response_model=DetectionOut,
    responses={409: PROBLEM, 422: PROBLEM, 503: PROBLEM},
)
async def create_detection(
    body: DetectionIn,
    principal: Writer,
    found: ServicesDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    [outcome] = await _ingest(found, [body], principal.name, idempotency_key)
    if isinstance(outcome, ItemError):
        problem = {"code": outcome.code, "field": outcome.field, "reason": outcome.reason}
        if outcome.status == 422:
            raise invalid([problem])
        raise ProblemError(outcome.status, outcome.code, outcome.reason, field=outcome.field)
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return detection_body(outcome.row)


@router.post(
    "/detections:batch",
    status_code=207,
    summary="Ingest a batch of detections in one transaction",
    response_model=BatchOut,
    responses={422: PROBLEM, 503: PROBLEM},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BatchIn"}}},
        }
    },
)
async def create_detections(
    request: Request, principal: Writer, found: ServicesDep, idempotency_key: IdempotencyKey = None
) -> dict[str, Any]:
    raw_items = _batch_items(await request.body(), found.settings.max_batch_items)
    valid: list[DetectionIn] = []
    positions: list[int] = []
    results: list[dict[str, Any] | None] = [None] * len(raw_items)
    for index, raw in enumerate(raw_items):
        try:
            valid.append(_item.validate_python(raw))
            positions.append(index)
        except ValidationError as error:
            problems = validation_problems(error.errors(include_url=False))
            results[index] = _item_error(index, 422, problems[0])
            found.metrics.rejections.labels("invalid_field").inc()
    outcomes = await _ingest(found, valid, principal.name, idempotency_key)
    for index, outcome in zip(positions, outcomes, strict=True):
        results[index] = _item_result(index, outcome)
    return {"results": results}


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
    since: Annotated[AwareDatetime | None, Query(description="received at or after")] = None,
    until: Annotated[AwareDatetime | None, Query(description="received before")] = None,
    flag: Annotated[Literal["GREEN", "YELLOW", "RED"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=5_000)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    if limit > found.settings.max_page_size:
        raise invalid([_limit_problem("limit", f"at most {found.settings.max_page_size}")])
    query = PageQuery(since=since, until=until, flag=flag, limit=limit, cursor=_cursor(cursor))
    rows = await run_in_threadpool(found.detections.page, query)
    next_cursor = None
    if len(rows) == limit:
        last = rows[-1]
        next_cursor = encode_cursor(last["received_at"], last["id"])
    return {"items": [detection_body(r) for r in rows], "next_cursor": next_cursor}


async def _ingest(
    found: Services, items: list[DetectionIn], principal: str, key: str | None
) -> list[Outcome]:
    if not items:
        return []
    try:
        return await run_in_threadpool(found.ingestor.ingest, items, principal, key)
    except OutboxFullError:
        found.metrics.rejections.labels("outbox_full").inc()
        retry_after = str(found.settings.retry_after_seconds)
        raise ProblemError(
            503, "outbox_full", "the delivery queue is at its cap; retry later",
            headers={"Retry-After": retry_after},
        ) from None  # fmt: skip


def _batch_items(body: bytes, max_items: int) -> list[Any]:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise ProblemError(400, "malformed_json", "body is not valid JSON") from None
    if not isinstance(document, dict) or set(document) != {"items"}:
        raise invalid([_limit_problem("body", "expected an object with exactly one key, items")])
    items = document["items"]
    if not isinstance(items, list) or not items:
        raise invalid([_limit_problem("items", "expected a non-empty list of detections")])
    if len(items) > max_items:
        raise invalid([_limit_problem("items", f"at most {max_items} items per batch")])
    return items


def _item_result(index: int, outcome: Outcome) -> dict[str, Any]:
    if isinstance(outcome, Stored):
        return {"index": index, "status": 201, "detection": detection_body(outcome.row)}
    error = {"code": outcome.code, "field": outcome.field, "reason": outcome.reason}
    return _item_error(index, outcome.status, error)


def _item_error(index: int, status: int, problem: dict[str, Any]) -> dict[str, Any]:
    return {"index": index, "status": status, "error": ProblemItem(**problem).model_dump()}


def _limit_problem(field: str, reason: str) -> dict[str, Any]:
    return {"code": "invalid_field", "field": field, "reason": reason}


def _cursor(cursor: str | None) -> tuple[datetime, str] | None:
    if cursor is None:
        return None
    try:
        return decode_cursor(cursor)
    except ValueError as error:
        raise invalid([_limit_problem("cursor", str(error))]) from None


# Registered in the OpenAPI components by the app factory (the batch body is parsed by hand,
# item by item, so that one bad item does not fail the others).
OPENAPI_MODELS = (BatchIn,)
