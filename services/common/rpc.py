"""Thin gRPC adapter glue: admission control, error mapping and metrics for servicer methods.

Servicer methods stay one-liners that translate proto <-> plain science calls; this module
turns domain exceptions into rich gRPC statuses (google.rpc.BadRequest field violations),
bounds concurrency (RESOURCE_EXHAUSTED instead of unbounded queues), runs blocking science
in a bounded thread pool, and records Prometheus metrics.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from services.common.errors import InvalidArgument, WorkTimeout
from services.common.metrics import GRPC_DURATION, GRPC_IN_FLIGHT, GRPC_REJECTED, GRPC_REQUESTS

log = logging.getLogger(__name__)
T = TypeVar("T")


class Admission:
    """Counts in-flight requests and refuses new ones beyond a fixed limit (no queueing)."""

    def __init__(self, service: str, limit: int) -> None:
        self.service = service
        self.limit = limit
        self.in_flight = 0

    def try_enter(self) -> bool:
        if self.in_flight >= self.limit:
            return False
        self.in_flight += 1
        GRPC_IN_FLIGHT.labels(self.service).inc()
        return True

    def leave(self) -> None:
        self.in_flight -= 1
        GRPC_IN_FLIGHT.labels(self.service).dec()


class ServicerBase:
    """Base of Zuhur servicers: owns the worker pool and the admission counter."""

    service_name = "zuhur.v1.Unknown"

    def __init__(self, workers: int, max_in_flight: int) -> None:
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kernel")
        self.admission = Admission(self.service_name, max_in_flight)

    async def run_blocking(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking science on the worker pool so the event loop stays free."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(fn, *args, **kwargs))

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


def invalid_argument_status(exc: InvalidArgument) -> grpc.Status:
    """Rich INVALID_ARGUMENT status carrying google.rpc.BadRequest field violations."""
    bad_request = error_details_pb2.BadRequest(
        field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
            for v in exc.violations
        ]
    )
    detail = any_pb2.Any()
    detail.Pack(bad_request)
    return rpc_status.to_status(
        status_pb2.Status(code=code_pb2.INVALID_ARGUMENT, message=str(exc), details=[detail])
    )


class _Outcome:
    """Mutable status code holder shared between the wrapper and its finally block."""

    code = grpc.StatusCode.OK


async def _enter(self: ServicerBase, method: str, context: grpc.aio.ServicerContext) -> None:
    if not self.admission.try_enter():
        GRPC_REJECTED.labels(self.service_name, method).inc()
        GRPC_REQUESTS.labels(self.service_name, method, "RESOURCE_EXHAUSTED").inc()
        await context.abort(
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            f"server busy: {self.admission.limit} requests in flight (max_in_flight); retry later",
        )


async def _map_error(exc: BaseException, outcome: _Outcome, context: Any, method: str) -> None:
    """Translate a domain or unexpected exception into an aborted RPC."""
    if isinstance(exc, InvalidArgument):
        outcome.code = grpc.StatusCode.INVALID_ARGUMENT
        await context.abort_with_status(invalid_argument_status(exc))
    if isinstance(exc, WorkTimeout):
        outcome.code = grpc.StatusCode.DEADLINE_EXCEEDED
        await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, str(exc))
    if isinstance(exc, (asyncio.CancelledError, GeneratorExit)):  # the client went away
        outcome.code = grpc.StatusCode.CANCELLED
        raise exc
    if isinstance(exc, grpc.aio.AbortError):
        outcome.code = context.code() or grpc.StatusCode.UNKNOWN
        raise exc
    outcome.code = grpc.StatusCode.INTERNAL
    log.exception("%s failed", method)
    await context.abort(grpc.StatusCode.INTERNAL, f"internal error in {method}")


def _record(self: ServicerBase, method: str, outcome: _Outcome, start: float) -> None:
    self.admission.leave()
    GRPC_REQUESTS.labels(self.service_name, method, outcome.code.name).inc()
    GRPC_DURATION.labels(self.service_name, method).observe(time.perf_counter() - start)


def unary(
    func: Callable[[Any, Any, grpc.aio.ServicerContext], Awaitable[Any]],
) -> Callable[[Any, Any, grpc.aio.ServicerContext], Awaitable[Any]]:
    """Wrap a unary servicer method with admission, error mapping and metrics."""
    method = func.__name__

    @functools.wraps(func)
    async def wrapper(self: ServicerBase, request: Any, context: grpc.aio.ServicerContext) -> Any:
        await _enter(self, method, context)
        outcome, start = _Outcome(), time.perf_counter()
        try:
            return await func(self, request, context)
        except BaseException as exc:
            await _map_error(exc, outcome, context, method)
            raise
        finally:
            _record(self, method, outcome, start)

    return wrapper


def server_stream(
    func: Callable[[Any, Any, grpc.aio.ServicerContext], AsyncIterator[Any]],
) -> Callable[[Any, Any, grpc.aio.ServicerContext], AsyncIterator[Any]]:
    """Wrap a server-streaming servicer method with admission, error mapping and metrics."""
    method = func.__name__

    @functools.wraps(func)
    async def wrapper(
        self: ServicerBase, request: Any, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[Any]:
        await _enter(self, method, context)
        outcome, start = _Outcome(), time.perf_counter()
        try:
            async for item in func(self, request, context):
                yield item
        except BaseException as exc:
            await _map_error(exc, outcome, context, method)
            raise
        finally:
            _record(self, method, outcome, start)

    return wrapper
