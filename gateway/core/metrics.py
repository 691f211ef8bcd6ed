"""Gateway Prometheus metrics: HTTP traffic, cache outcomes, upstream gRPC calls."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

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
