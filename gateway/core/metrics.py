"""Gateway Prometheus metrics: HTTP traffic, cache outcomes, upstream gRPC calls.

``HttpMetrics`` is pure ASGI middleware (no ``BaseHTTPMiddleware`` task group per request).
Each gateway process keeps its own registry: containers run one process each and Prometheus
scrapes every replica; where one machine runs several workers (`make up`),
``PROMETHEUS_MULTIPROC_DIR`` makes ``/metrics`` add up all of them.
"""

from __future__ import annotations

import os
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common.metrics import DURATION_BUCKETS

HTTP_REQUESTS = Counter(
    "zuhur_http_requests_total",
    "HTTP requests served, by method, route template and status code.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "zuhur_http_request_duration_seconds",
    "Time to serve an HTTP request, by method and route template.",
    ["method", "route"],
    buckets=DURATION_BUCKETS,
)
CACHE_LOOKUPS = Counter(
    "zuhur_cache_lookups_total",
    "Result-cache outcomes: hit, miss (computed and stored) or bypass (unseeded or no Redis).",
    ["result"],
)
CACHE_ERRORS = Counter(
    "zuhur_cache_errors_total",
    "Redis operations that failed and were treated as misses.",
    ["operation"],
)
UPSTREAM_DURATION = Histogram(
    "zuhur_upstream_request_duration_seconds",
    "Time of gRPC calls from the gateway to the services, by method.",
    ["method"],
    buckets=DURATION_BUCKETS,
)
UPSTREAM_ERRORS = Counter(
    "zuhur_upstream_errors_total",
    "gRPC calls from the gateway that failed, by method and status code.",
    ["method", "code"],
)


# Scope key naming the route of a request answered before FastAPI routed it (the hot path).
ROUTE_SCOPE_KEY = "zuhur.route"


def route_template(scope: Scope) -> str:
    """The matched route's full path template (``/v1/graphs/sample``), or ``unmatched``.

    FastAPI applies an ``include_router`` prefix (``/v1``) lazily: ``scope["route"].path``
    lacks it, the effective route context FastAPI puts in the scope has the whole path.
    """
    if ROUTE_SCOPE_KEY in scope:
        return str(scope[ROUTE_SCOPE_KEY])
    effective = (scope.get("fastapi") or {}).get("effective_route_context")
    path = getattr(effective, "path", None) or getattr(scope.get("route"), "path", None)
    return str(path) if path else "unmatched"


class HttpMetrics:
    """Count and time every HTTP request by method, route template and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # The labelled series by (method, route, status): ``labels()`` costs as much as a
        # cached hit's whole validation, so each series is looked up once per process.
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # what the client gets if the app raises before it starts a response

        async def observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observed)
        finally:
            key = (scope["method"], route_template(scope), status)
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = (
                    HTTP_REQUESTS.labels(key[0], key[1], str(status)),
                    HTTP_DURATION.labels(key[0], key[1]),
                )
            series[0].inc()
            series[1].observe(time.perf_counter() - start)


def exposition() -> bytes:
    """The text exposition of this process, or of all workers in multiprocess mode."""
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return generate_latest()
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry)
