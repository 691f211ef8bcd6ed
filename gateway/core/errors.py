"""One mapping from errors to HTTP problem details (RFC 9457), for every route."""

from __future__ import annotations

import logging
import math
from typing import Any

import grpc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from google.rpc import error_details_pb2, status_pb2
from grpc_status.rpc_status import GRPC_DETAILS_METADATA_KEY
from starlette.exceptions import HTTPException
from starlette.routing import Match

from gateway.core import requestid

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"

# gRPC status -> (HTTP status, title)
_HTTP: dict[grpc.StatusCode, tuple[int, str]] = {
    grpc.StatusCode.INVALID_ARGUMENT: (422, "Invalid request"),
    grpc.StatusCode.OUT_OF_RANGE: (422, "Invalid request"),
    grpc.StatusCode.FAILED_PRECONDITION: (422, "Invalid request"),
    grpc.StatusCode.NOT_FOUND: (404, "Not found"),
    grpc.StatusCode.RESOURCE_EXHAUSTED: (429, "Service busy"),
    grpc.StatusCode.UNAVAILABLE: (503, "Service unavailable"),
    grpc.StatusCode.CANCELLED: (503, "Service unavailable"),
    grpc.StatusCode.DEADLINE_EXCEEDED: (504, "Deadline exceeded"),
    grpc.StatusCode.UNIMPLEMENTED: (501, "Not implemented"),
}


# Jobs API method names of the synchronous routes (a fit's is its path: /v1/fits/{name}).
_JOB_METHODS = {"/v1/sweeps": "sweep", "/v1/graphs/sample": "sample"}
_JOB_METHODS["/v1/abilities/simulate"] = "simulate_abilities"


def problem_body(
    status: int, title: str, detail: str, errors: list[dict[str, str]] | None = None, **extra: Any
) -> dict[str, Any]:
    """The problem+json document; ``errors`` lists ``{field, message}`` per bad field;
    ``request_id`` (and ``trace_id`` while tracing) point a bug report to the request."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    body["detail"] = detail
    if errors:
        body["errors"] = errors
    body.update(extra)
    body.update(requestid.problem_fields())
    return body


def problem(
    status: int,
    title: str,
    detail: str,
    errors: list[dict[str, str]] | None = None,
    retry_after: int | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem+json response; 429 and 503 say when to retry (``retry_after``, default 1 s)."""
    body = problem_body(status, title, detail, errors, **extra)
    headers = requestid.response_headers()  # the 500 handler's response skips the middleware
    if status in (429, 503):
        headers["Retry-After"] = str(retry_after or 1)
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _details(error: grpc.aio.AioRpcError) -> list[Any]:
    """The google.rpc.Status details (packed Any messages) in the error's trailing metadata."""
    metadata: Any = error.trailing_metadata() or ()
    for key, value in metadata:
        if key == GRPC_DETAILS_METADATA_KEY:
            return list(status_pb2.Status.FromString(value).details)
    return []


def field_violations(error: grpc.aio.AioRpcError) -> list[dict[str, str]]:
    """google.rpc.BadRequest field violations carried in the error's trailing metadata."""
    for detail in _details(error):
        bad = error_details_pb2.BadRequest()
        if detail.Unpack(bad):
            return [{"field": v.field, "message": v.description} for v in bad.field_violations]
    return []


def retry_delay(error: grpc.aio.AioRpcError) -> int | None:
    """Whole seconds (rounded up, at least 1) of a google.rpc.RetryInfo in the error, if any."""
    for detail in _details(error):
        info = error_details_pb2.RetryInfo()
        if detail.Unpack(info):
            delay = info.retry_delay.seconds + info.retry_delay.nanos / 1e9
            return max(1, math.ceil(delay))
    return None


def job_hint(path: str) -> str:
    """How to run the request at ``path`` as a job instead (for a 504's detail)."""
    method = _JOB_METHODS.get(path, path.rsplit("/", 1)[-1] if path.startswith("/v1/fits/") else "")
    name = f'"{method}"' if method else "<this route's method>"
    return (
        f'; long work can run as a job: POST /v1/jobs with {{"method": {name}, '
        '"request": <the same body>}, then poll GET /v1/jobs/{id}'
    )


class UpstreamError(Exception):
    """A gRPC call to ``service`` failed: carries the service's name (named in 503 problems)
    and the gRPC error, so the handler maps it without reading anything off the request."""

    def __init__(self, service: str, error: grpc.aio.AioRpcError) -> None:
        super().__init__(f"{service}: {error.code().name}: {error.details()}")
        self.service = service
        self.error = error

    @property
    def code(self) -> grpc.StatusCode:
        return self.error.code()


def grpc_problem_body(error: grpc.aio.AioRpcError, service: str, path: str) -> dict[str, Any]:
    """The problem document of an upstream error on the route at ``path``: the same status
    whether it is sent as the response or as the last line of a stream already started."""
    code = error.code()
    status, title = _HTTP.get(code, (502, "Upstream error"))
    detail = error.details() or code.name
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED):
        detail = f"{service} is unavailable: {detail}"
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        detail += job_hint(path)
    return problem_body(status, title, detail, field_violations(error), grpc_code=code.name)


def grpc_problem(error: grpc.aio.AioRpcError, service: str, path: str = "") -> JSONResponse:
    body = grpc_problem_body(error, service, path)
    status = int(body["status"])
    headers = None
    if status in (429, 503):
        headers = {"Retry-After": str(retry_delay(error) or 1)}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


# Titles of the HTTP-level refusals (routing, body, media type).
_HTTP_TITLES = {
    400: "Malformed request",
    401: "Unauthorized",
    404: "Not found",
    405: "Method not allowed",
    408: "Request timeout",
    413: "Request body too large",
    415: "Unsupported media type",
}


def line_column(text: str, pos: int) -> tuple[int, int]:
    """1-based line and column of character offset ``pos`` in ``text``."""
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


def _malformed_json(exc: RequestValidationError) -> JSONResponse | None:
    """400 for a body that is not JSON at all, naming the line and column."""
    for error in exc.errors():
        if error.get("type") == "json_invalid":
            pos = int(error["loc"][-1])
            doc = exc.body if isinstance(exc.body, str) else ""
            line, column = line_column(doc, pos)
            reason = error.get("ctx", {}).get("error", "invalid JSON")
            detail = f"malformed JSON at line {line}, column {column}: {reason}"
            return problem(400, _HTTP_TITLES[400], detail, line=line, column=column)
    return None


def _loc(loc: tuple[int | str, ...]) -> str:
    parts = [p for p in loc if p not in ("body", "query", "path")]
    text = ""
    for p in parts:
        text += f"[{p}]" if isinstance(p, int) else (f".{p}" if text else str(p))
    return text or "body"


def allowed_methods(request: Request) -> list[str]:
    """The methods some route of the app serves at the request's path."""
    routes = request.app.router.routes
    return [
        method
        for method in ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
        if any(r.matches({**request.scope, "method": method})[0] == Match.FULL for r in routes)
    ]


def install(app: FastAPI) -> None:
    """Register the handlers: request validation, gRPC errors, and anything unexpected."""

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        malformed = _malformed_json(exc)
        if malformed is not None:
            return malformed
        if isinstance(exc.body, bytes):  # FastAPI parses only JSON media types
            media = request.headers.get("content-type", "none")
            detail = f"send the body as application/json (got content-type {media})"
            return problem(415, _HTTP_TITLES[415], detail)
        errors = [{"field": _loc(tuple(e["loc"])), "message": e["msg"]} for e in exc.errors()]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem(422, "Invalid request", detail, errors)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        status = exc.status_code
        title = _HTTP_TITLES.get(status, "HTTP error")
        detail = str(exc.detail)
        if status == 400:  # invalid UTF-8, a 5,000-digit integer, nesting too deep
            detail = f"the body is not valid JSON ({detail.lower()})"
        response = problem(status, title, detail)
        response.headers.update(exc.headers or {})
        if status == 405:  # every method of the path, not only the first route's
            response.headers["Allow"] = ", ".join(allowed_methods(request))
        return response

    @app.exception_handler(UpstreamError)
    async def _upstream(request: Request, exc: UpstreamError) -> JSONResponse:
        return grpc_problem(exc.error, exc.service, request.url.path)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s", request.url.path)
        return problem(500, "Internal error", "internal error; see the gateway log")


# OpenAPI documentation of the error responses every computing route can give.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"description": title, "content": {PROBLEM: {}}}
    for code, title in (
        (400, "Malformed JSON (line and column named) or a body that cannot be parsed"),
        (408, "The body stalled longer than the read timeout"),
        (413, "Request body larger than the configured limit"),
        (415, "Body not sent as application/json"),
        (422, "Invalid request (the field is named)"),
        (429, "Service busy; retry after Retry-After seconds"),
        (503, "A service is unavailable"),
        (504, "Deadline exceeded"),
    )
}


# Refusals any operation can give whatever its route: a wrong path, a method it lacks, an
# Accept it cannot meet (gateway.api.negotiation).
_EVERYWHERE: dict[str, dict[str, Any]] = {
    "404": {"description": "No such route or resource", "content": {PROBLEM: {}}},
    "405": {"description": "Method not allowed here (see Allow)", "content": {PROBLEM: {}}},
    "406": {"description": "Accept admits none of the media types listed for 200",
            "content": {PROBLEM: {}}},
}  # fmt: skip
# ... and any /v1 operation: API key checks and per-client quotas.
_V1: dict[str, dict[str, Any]] = {
    "401": {"description": "API key missing or not valid", "content": {PROBLEM: {}}},
    "429": {"description": "Busy or over this client's quota; see Retry-After",
            "content": {PROBLEM: {}}},
    "503": {"description": "A service or store is unavailable; see Retry-After",
            "content": {PROBLEM: {}}},
}  # fmt: skip
BEARER = {"ApiKey": {"type": "http", "scheme": "bearer", "description": "An API key"}}


def document_refusals(spec: dict[str, Any], keys_required: bool) -> dict[str, Any]:
    """``spec`` with the routing refusals (404, 405) documented on every operation, key and
    quota refusals on every /v1 one, and the bearer scheme when keys are required."""
    for path, ops in spec.get("paths", {}).items():
        for op in ops.values():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            extra = {**_EVERYWHERE, **(_V1 if path.startswith("/v1/") else {})}
            for code, response in extra.items():
                op["responses"].setdefault(code, response)
            if keys_required and path.startswith("/v1/"):
                op["security"] = [{"ApiKey": []}]
    if keys_required:
        spec.setdefault("components", {}).setdefault("securitySchemes", {}).update(BEARER)
    return spec
