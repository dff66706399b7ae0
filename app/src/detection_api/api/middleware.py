"""Pure ASGI middleware: request ids, RED metrics by route template, and body size limits.

Pure ASGI (not BaseHTTPMiddleware) because it sits on the hot path of every request.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Mapping

import structlog
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from detection_api.api.problems import ProblemError, problem_response
from detection_api.observability.metrics import Metrics

REQUEST_ID_HEADER = b"x-request-id"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
log = structlog.get_logger("detection_api.access")


def body_too_large(limit: int) -> HTTPException:
    # An HTTPException, so that FastAPI's body parsing passes it through as a 413.
    return HTTPException(413, f"request body is over the limit of {limit} bytes")


class ObservedRequests:
    """Request ids, access logs and metrics. Outermost, so it sees every answer."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        structlog.contextvars.bind_contextvars(request_id=request_id)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"].append((REQUEST_ID_HEADER, request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"]
            self.metrics.requests.labels(route, method, str(status)).inc()
            self.metrics.latency.labels(route, method).observe(elapsed)
            if status >= 400:
                log.info("request", route=route, method=method, status=status, ms=elapsed * 1e3)
            structlog.contextvars.unbind_contextvars("request_id")


class BodyLimit:
    """413 for bodies over the limit of their path, whether announced or streamed."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app, self.limit_for = app, limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in {"GET", "HEAD", "OPTIONS", "DELETE"}:
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = _headers(scope).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(limit)(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise body_too_large(limit)
            return message

        await self.app(scope, limited_receive, send)


def _too_large(limit: int) -> ASGIApp:
    exception = body_too_large(limit)
    return problem_response(ProblemError(413, "payload_too_large", str(exception.detail)))


def _headers(scope: Scope) -> Mapping[bytes, bytes]:
    return dict(scope.get("headers", ()))


def _request_id(scope: Scope) -> str:
    given = _headers(scope).get(REQUEST_ID_HEADER, b"").decode("latin-1")
    return given if _REQUEST_ID.match(given) else uuid.uuid4().hex
