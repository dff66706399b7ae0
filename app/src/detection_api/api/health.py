"""Probes for Kubernetes: /livez (process), /readyz (can serve), /startupz (has started)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from detection_api.api.services import Services, ServicesDep
from detection_api.store import migrate

router = APIRouter(tags=["health"])


class Status(BaseModel):
    status: str
    checks: dict[str, str] = {}


@router.get("/livez", summary="The process is alive")
async def livez() -> Status:
    return Status(status="ok")


@router.get("/startupz", summary="Start-up (migrations check, stores) has finished")
async def startupz() -> Status:
    return Status(status="ok")


@router.get(
    "/readyz",
    summary="Ready for traffic: database reachable, schema at head, not draining",
    responses={503: {"model": Status}},
)
async def readyz(found: ServicesDep, response: Response) -> Status:
    checks = await run_in_threadpool(readiness, found)
    if all(value == "ok" for value in checks.values()):
        return Status(status="ok", checks=checks)
    response.status_code = 503
    response.headers["Retry-After"] = str(found.settings.retry_after_seconds)
    return Status(status="unavailable", checks=checks)


def readiness(found: Services) -> dict[str, str]:
    """Each check's result: "ok" or why not. TAK reachability is NOT a check: the outbox holds."""
    checks = {"shutdown": "draining" if found.shutting_down else "ok"}
    try:
        with found.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current = migrate.current_revision(found.engine)
    except SQLAlchemyError as error:
        checks["database"] = f"unreachable ({type(error).__name__})"
        checks["migrations"] = "unknown"
        return checks
    checks["database"] = "ok"
    head = migrate.head_revision()
    checks["migrations"] = "ok" if current == head else f"at {current or 'nothing'}, need {head}"
    return checks
