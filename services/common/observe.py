"""What one RPC leaves behind besides its reply: its log line and the engine's work counters.

Called by the adapter (services.common.rpc) for every call a servicer method handles: the
request id the gateway sent in the metadata is bound for the call's log lines, and the
finished call writes one structured line (method, status code, duration; the request and
trace ids come from services.common.logs).
"""

from __future__ import annotations

import logging

import grpc

from services.common.logs import REQUEST_ID, metadata_request_id
from services.common.metrics import ENGINE_NODES, ENGINE_REPLICATES

rpc_log = logging.getLogger("zuhur.rpc")


def bind_request(context: grpc.aio.ServicerContext) -> None:
    """Make the caller's ``x-request-id`` the request id of this call's log lines."""
    REQUEST_ID.set(metadata_request_id(context.invocation_metadata()))


def log_rpc(service: str, method: str, code: str, seconds: float) -> None:
    """One line per call: ``service``, ``method``, gRPC status ``code``, duration."""
    level = logging.INFO if code in ("OK", "INVALID_ARGUMENT", "CANCELLED") else logging.WARNING
    if not rpc_log.isEnabledFor(level):
        return
    rpc_log.log(
        level,
        "%s/%s %s %.1f ms",
        service,
        method,
        code,
        seconds * 1000,
        extra={
            "rpc_service": service,
            "rpc_method": method,
            "code": code,
            "duration_ms": round(seconds * 1000, 3),
        },
    )


def count_work(service: str, method: str, replicates: float, nodes: float) -> None:
    """Add a call's finished replicates and their nodes to the throughput counters."""
    if replicates > 0:
        ENGINE_REPLICATES.labels(service, method).inc(replicates)
    if nodes > 0:
        ENGINE_NODES.labels(service, method).inc(nodes)
