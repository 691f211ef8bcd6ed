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
    """The problem+json document; ``errors`` lists ``{field, message}`` per bad field."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    body["detail"] = detail
    if errors:
        body["errors"] = errors
    body.update(extra)
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
    headers = {"Retry-After": str(retry_after or 1)} if status in (429, 503) else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def field_violations(error: grpc.aio.AioRpcError) -> list[dict[str, str]]:
    """google.rpc.BadRequest field violations carried in the error's trailing metadata."""
    metadata: Any = error.trailing_metadata() or ()
    for key, value in metadata:
        if key == GRPC_DETAILS_METADATA_KEY:
            status = status_pb2.Status.FromString(value)
            for detail in status.details:
                bad = error_details_pb2.BadRequest()
                if detail.Unpack(bad):
                    return [
                        {"field": v.field, "message": v.description} for v in bad.field_violations
                    ]
    return []


def retry_delay(error: grpc.aio.AioRpcError) -> int | None:
    """Whole seconds (rounded up, at least 1) of a google.rpc.RetryInfo in the error, if any."""
    metadata: Any = error.trailing_metadata() or ()
    for key, value in metadata:
        if key == GRPC_DETAILS_METADATA_KEY:
            status = status_pb2.Status.FromString(value)
            for detail in status.details:
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


def _loc(loc: tuple[int | str, ...]) -> str:
    parts = [p for p in loc if p not in ("body", "query", "path")]
    text = ""
    for p in parts:
        text += f"[{p}]" if isinstance(p, int) else (f".{p}" if text else str(p))
    return text or "body"


def install(app: FastAPI) -> None:
    """Register the handlers: request validation, gRPC errors, and anything unexpected."""

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": _loc(tuple(e["loc"])), "message": e["msg"]} for e in exc.errors()]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem(422, "Invalid request", detail, errors)

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
        (422, "Invalid request (the field is named)"),
        (429, "Service busy; retry after Retry-After seconds"),
        (503, "A service is unavailable"),
        (504, "Deadline exceeded"),
    )
}
