"""Prometheus metrics of the gRPC services (zuhur_ prefix, base units, bounded labels)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

# The *_created series double the exposition and nobody graphs them.
disable_created_metrics()

# Simulation and fit durations span milliseconds to minutes.
DURATION_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    120.0,
    300.0,
)

GRPC_REQUESTS = Counter(
    "zuhur_grpc_server_requests_total",
    "gRPC requests handled, by method and status code.",
    ["service", "method", "code"],
)
GRPC_DURATION = Histogram(
    "zuhur_grpc_server_request_duration_seconds",
    "Time to handle a gRPC request, by method.",
    ["service", "method"],
    buckets=DURATION_BUCKETS,
)
GRPC_IN_FLIGHT = Gauge(
    "zuhur_grpc_server_in_flight_requests",
    "gRPC requests admitted and not yet finished.",
    ["service"],
)
GRPC_REJECTED = Counter(
    "zuhur_grpc_server_rejected_total",
    "Requests refused with RESOURCE_EXHAUSTED because max_in_flight was reached.",
    ["service", "method"],
)
WARMUP_SECONDS = Gauge(
    "zuhur_warmup_duration_seconds",
    "Seconds the service spent warming its kernels before reporting SERVING.",
    ["service"],
)
SERVING = Gauge(
    "zuhur_grpc_server_serving",
    "1 while the service reports SERVING on its health service, 0 while warming up or draining.",
    ["service"],
)
ENGINE_REPLICATES = Counter(
    "zuhur_engine_replicates_total",
    "Replicates (independent realizations) the kernels finished, by method.",
    ["service", "method"],
)
ENGINE_NODES = Counter(
    "zuhur_engine_nodes_total",
    "Nodes (or lattice sites) of the finished replicates: replicates times graph size.",
    ["service", "method"],
)
CLUSTER_FALLBACKS = Counter(
    "zuhur_simulation_cluster_fallbacks_total",
    "Runs (or their unfinished blocks) done on local threads instead of the configured Dask "
    "cluster, by reason: unreachable (no connection) or lost (scheduler gone mid-run).",
    ["reason"],
)
