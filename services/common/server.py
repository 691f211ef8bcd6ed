"""Start a Zuhur gRPC service: health, reflection, metrics, warm-up, graceful shutdown.

Liveness (health service "") is SERVING as soon as the port is bound; readiness (the
service's own name) turns SERVING only after warm-up, and back to NOT_SERVING on SIGTERM
before the server drains in-flight calls for ``grace_seconds``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
from google.protobuf.descriptor import ServiceDescriptor
from google.protobuf.message_factory import GetMessageClass
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from prometheus_client import start_http_server

from services.common import logs, telemetry
from services.common.config import ServiceSettings
from services.common.heap import freeze_startup_heap
from services.common.jitcache import COLD_MESSAGE, count_kernels, is_cold
from services.common.metrics import SERVING, WARMUP_SECONDS
from services.common.rpc import ServicerBase
from services.common.tls import TlsSettings

log = logging.getLogger(__name__)


def configure_logging(level: str, service: str) -> None:
    """Log lines in the format ``ZUHUR_LOG_FORMAT`` names (services.common.logs)."""
    logs.configure(level, service)


def add_service(servicer: object, service: ServiceDescriptor, server: grpc.aio.Server) -> None:
    """Serve ``servicer``'s methods of ``service``, each reply serialised deterministically
    (map entries in key order), so one result is the same bytes in every process: protobuf's
    default map order follows a per-process hash seed. Replaces the generated add_*_to_server.
    """
    handlers: dict[str, grpc.RpcMethodHandler] = {}
    for method in service.methods:
        request = GetMessageClass(method.input_type)
        factory = (
            grpc.unary_stream_rpc_method_handler
            if method.server_streaming
            else grpc.unary_unary_rpc_method_handler
        )
        handlers[method.name] = factory(
            getattr(servicer, method.name),
            request_deserializer=request.FromString,
            response_serializer=_deterministic_bytes,
        )
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(service.full_name, handlers),)
    )
    server.add_registered_method_handlers(service.full_name, handlers)


def _deterministic_bytes(message: Any) -> bytes:
    return message.SerializeToString(deterministic=True)


def telemetry_name(full_name: str) -> str:
    """The traces' service name of a proto service: zuhur.v1.Simulation -> zuhur-simulation."""
    return "zuhur-" + full_name.rsplit(".", 1)[-1].lower()


async def serve(
    settings: ServiceSettings,
    servicer: ServicerBase,
    register: Callable[[ServicerBase, grpc.aio.Server], None],
    full_name: str,
    warmup: Callable[[], None],
) -> None:
    """Run ``servicer`` until SIGTERM/SIGINT; ``full_name`` is its proto service name.

    The port serves TLS (mutual with ZUHUR_TLS_CLIENT_AUTH) when ZUHUR_TLS_* name files.
    """
    tls = TlsSettings()  # first: a missing certificate stops the start, naming the variable
    telemetry.setup(telemetry_name(full_name))  # before the server: it instruments grpc.aio
    server = grpc.aio.server(
        options=[
            ("grpc.max_connection_age_ms", settings.max_connection_age_ms),
            ("grpc.max_connection_age_grace_ms", int(settings.grace_seconds * 1000)),
            ("grpc.so_reuseport", 0),
            ("grpc.max_receive_message_length", settings.max_message_bytes),
        ]
    )
    register(servicer, server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (full_name, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    address = f"{settings.host}:{settings.port}"
    credentials = tls.server_credentials()
    if credentials is None:
        bound = server.add_insecure_port(address)
    else:
        bound = server.add_secure_port(address, credentials)
    if bound == 0:
        raise SystemExit(f"cannot bind {address}")
    start_http_server(settings.metrics_port, addr=settings.metrics_host)
    await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    await health_servicer.set(full_name, health_pb2.HealthCheckResponse.NOT_SERVING)
    SERVING.labels(full_name).set(0)
    await server.start()
    transport = "plaintext" if credentials is None else "mutual TLS" if tls.client_auth else "TLS"
    log.info("%s listening on %s, %s (metrics on :%d)", full_name, address, transport,
             settings.metrics_port)  # fmt: skip

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    cache = os.environ.get("NUMBA_CACHE_DIR")
    if cache and is_cold(Path(cache)):
        log.info("%s warming up: %s", full_name, COLD_MESSAGE)
    started = time.perf_counter()
    warm: asyncio.Future[None] = loop.run_in_executor(servicer.executor, warmup)
    stopped: asyncio.Future[bool] = asyncio.ensure_future(stop.wait())
    pending: set[asyncio.Future[Any]] = {warm, stopped}
    done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
    if warm in done:
        warm.result()
        elapsed = time.perf_counter() - started
        WARMUP_SECONDS.labels(full_name).set(elapsed)
        freeze_startup_heap()  # full GCs skip imports and warmed kernels
        await health_servicer.set(full_name, health_pb2.HealthCheckResponse.SERVING)
        SERVING.labels(full_name).set(1)
        log.info("%s warmed up in %.2f s (kernels: %s): SERVING", full_name, elapsed,
                 count_kernels())  # fmt: skip
        await stop.wait()

    log.info("%s shutting down (grace %.1f s)", full_name, settings.grace_seconds)
    await health_servicer.enter_graceful_shutdown()
    SERVING.labels(full_name).set(0)
    await server.stop(settings.grace_seconds)
    servicer.close()
