"""RFC 9457 problem details: every error has a stable `code`, the failing field and the reason.

Never a 500 for bad input, never exception text in a response: unexpected errors are logged
with the request id and answered with a generic problem.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from detection_api.geo import GeoInputError

PROBLEM_JSON = "application/problem+json"
log = structlog.get_logger("detection_api.api")

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_field",
    429: "rate_limited",
    503: "unavailable",
}


PROBLEM: dict[str, Any] = {
    "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
}
# Answers every authenticated, rate-limited route can give, for the OpenAPI document.
AUTHENTICATED: dict[int | str, dict[str, Any]] = {
    status: {"description": description, **PROBLEM}
    for status, description in (
        (400, "malformed request"),
        (401, "missing or invalid credentials"),
        (403, "the credentials lack the scope"),
        (413, "body over the size limit"),
        (415, "body not sent as application/json"),
        (422, "invalid field"),
        (429, "rate limited; see Retry-After"),
    )
}


class ProblemError(Exception):
    """An error that becomes a problem+json response."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        field: str | None = None,
        errors: Sequence[Mapping[str, Any]] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.field = field
        self.errors = list(errors)
        self.headers = dict(headers or {})


def problem_response(error: ProblemError) -> Response:
    body: dict[str, Any] = {
        "type": f"https://detection-api.dev/problems/{error.code}",
        "title": error.code.replace("_", " "),
        "status": error.status,
        "code": error.code,
        "detail": error.detail,
    }
    if error.field is not None:
        body["field"] = error.field
    if error.errors:
        body["errors"] = error.errors
    return Response(
        orjson.dumps(body), status_code=error.status, headers=error.headers, media_type=PROBLEM_JSON
    )


def field_path(location: Sequence[str | int]) -> str:
    """`("body", "pose", "pitch")` -> `pose.pitch`; list indexes as `items[3]`."""
    path = ""
    for part in location:
        if part in {"body", "query", "path", "header"} and not path:
            continue
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "body"


def validation_problems(errors: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Pydantic errors as problem items: field path, code and reason, never the input value."""
    problems = []
    for error in errors:
        location = [part for part in error.get("loc", ()) if not _is_union_tag(part)]
        problems.append(
            {
                "code": str(error.get("type", "invalid")),
                "field": field_path(location),
                "reason": str(error.get("msg", "invalid value")),
            }
        )
    return problems


def invalid(problems: list[dict[str, Any]]) -> ProblemError:
    first = problems[0]
    return ProblemError(
        422, "invalid_field", f"{first['field']}: {first['reason']}", field=first["field"],
        errors=problems,
    )  # fmt: skip


def geo_problem(error: GeoInputError) -> dict[str, Any]:
    return {"code": "invalid_geometry", "field": error.field, "reason": error.reason}


def _is_union_tag(part: object) -> bool:
    # pydantic puts the union member's type name in the location ("function-after[...]").
    return isinstance(part, str) and ("[" in part or part in {"float", "int", "str"})


def allowed_methods(request: Request) -> list[str]:
    """Every method any route serves on this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in request.app.routes:
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return sorted(methods)


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(_request: Request, error: ProblemError) -> Response:
        return problem_response(error)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, error: RequestValidationError) -> Response:
        problems = validation_problems(error.errors())
        if any(p["code"] == "json_invalid" for p in problems):
            return problem_response(ProblemError(400, "malformed_json", "body is not valid JSON"))
        return problem_response(invalid(problems))

    @app.exception_handler(GeoInputError)
    async def _geo(_request: Request, error: GeoInputError) -> Response:
        return problem_response(invalid([geo_problem(error)]))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> Response:
        code = HTTP_CODES.get(error.status_code, "http_error")
        detail = error.detail if isinstance(error.detail, str) else code
        headers = dict(error.headers or {})
        if error.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        return problem_response(ProblemError(error.status_code, code, detail, headers=headers))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> Response:
        log.exception("unhandled error", path=request.url.path, error_type=type(error).__name__)
        return problem_response(
            ProblemError(
                500, "internal_error", "unexpected error; it was logged with the request id"
            )
        )
