"""Request ids: every response carries ``X-Request-ID``, every request writes one log line.

The id is the caller's ``X-Request-ID`` when it is a sane token (a proxy's, a client's
retry), else the trace id of the request's span when tracing is on (so the id a user
reports is the trace to open), else a fresh random id. It is the ``request_id`` of every
log line written while serving the request, of problem+json bodies (``problem_fields``),
of the gRPC calls made for it (``GRPC_INTERCEPTORS``: the services log it too) and of the
jobs it submits. Pure ASGI, so it adds no task or copy per request.
"""

from __future__ import annotations

import logging
import os
import re
import time
from typing import Any

import grpc
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.core.metrics import route_template
from services.common import telemetry
from services.common.logs import REQUEST_ID, REQUEST_ID_METADATA

HEADER = b"x-request-id"
_SANE = re.compile(rb"[A-Za-z0-9._:\-]{1,128}")
# Probes and scrapes are logged at DEBUG: they are not anyone's requests.
QUIET_PATHS = frozenset({"/metrics", "/healthz", "/readyz"})
access = logging.getLogger("zuhur.access")


def new_request_id() -> str:
    """The current trace id when tracing is on, else 32 random hex digits."""
    return telemetry.current_trace_id() or os.urandom(16).hex()


def incoming(scope: Scope) -> str | None:
    """The caller's ``X-Request-ID``, if it is a token of at most 128 safe characters."""
    for key, value in scope.get("headers", ()):
        if key == HEADER:
            return value.decode("ascii") if _SANE.fullmatch(value) else None
    return None


def problem_fields() -> dict[str, str]:
    """``request_id`` (and ``trace_id`` while tracing) for a problem+json body."""
    fields = {}
    request_id = REQUEST_ID.get()
    if request_id is not None:
        fields["request_id"] = request_id
    trace_id = telemetry.current_trace_id()
    if trace_id is not None:
        fields["trace_id"] = trace_id
    return fields


def response_headers() -> dict[str, str]:
    """``X-Request-ID`` for a response built outside the middleware (the 500 handler's)."""
    request_id = REQUEST_ID.get()
    return {"X-Request-ID": request_id} if request_id is not None else {}


def _header(headers: Any, name: bytes) -> bytes | None:
    return next((v for k, v in headers if k.lower() == name), None)


class RequestIdMiddleware:
    """Assigns the request id, echoes it in ``X-Request-ID``, logs the request when done:
    method, route template, path, status, duration, cache status (``X-Cache``), ids.

    Cached hits are the bulk of the traffic and a log line costs as much as the rest of a
    hit, so only one hit in ``hit_every`` is logged (its line says ``sampled``); every
    other request (computations, errors, everything not a hit) is always logged."""

    def __init__(self, app: ASGIApp, access_log: bool = True, hit_every: int = 1) -> None:
        self.app = app
        self.access_log = access_log
        self.hit_every = hit_every
        self._hits = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = incoming(scope) or new_request_id()
        REQUEST_ID.set(request_id)  # kept on error: the 500 handler runs after this returns
        raw = request_id.encode("ascii")
        telemetry.annotate(request_id=request_id)
        start = time.perf_counter()
        seen: dict[str, Any] = {"status": 500, "cache": None}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                if _header(headers, HEADER) is None:
                    headers.append((HEADER, raw))
                    message = {**message, "headers": headers}
                seen["status"] = message["status"]
                cache = _header(headers, b"x-cache")
                seen["cache"] = cache.decode("latin-1") if cache is not None else None
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if self.access_log:
                self._log(scope, seen, time.perf_counter() - start)

    def _log(self, scope: Scope, seen: dict[str, Any], seconds: float) -> None:
        path = scope.get("path", "")
        level = logging.DEBUG if path in QUIET_PATHS else logging.INFO
        if not access.isEnabledFor(level):
            return
        sampled = None
        if seen["cache"] == "HIT" and self.hit_every > 1:
            self._hits += 1
            if self._hits % self.hit_every:
                return
            sampled = self.hit_every
        route = route_template(scope)
        method, status = scope.get("method", ""), seen["status"]
        access.log(
            level,
            "%s %s %d %.1f ms",
            method,
            path,
            status,
            seconds * 1000,
            extra={
                "method": method,
                "route": route,
                "path": path,
                "status": status,
                "duration_ms": round(seconds * 1000, 3),
                "cache": seen["cache"],
                "sampled": sampled,  # this line stands for that many hits (None: itself)
            },
        )


class _RequestIdMetadata:
    """Adds the current request id to the metadata of an outgoing call."""

    @staticmethod
    def _details(details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        request_id = REQUEST_ID.get()
        if request_id is None:
            return details
        metadata = grpc.aio.Metadata(*(details.metadata or ()))
        metadata[REQUEST_ID_METADATA] = request_id
        return grpc.aio.ClientCallDetails(
            details.method, details.timeout, metadata, details.credentials,
            details.wait_for_ready,
        )  # fmt: skip


class UnaryRequestId(_RequestIdMetadata, grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details), request)


class StreamRequestId(_RequestIdMetadata, grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details), request)


def grpc_interceptors() -> list[grpc.aio.ClientInterceptor]:
    """Client interceptors that carry the request id to the services (``x-request-id``)."""
    return [UnaryRequestId(), StreamRequestId()]
