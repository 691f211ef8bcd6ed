"""Thin gRPC adapter glue: admission control, error mapping and metrics for servicer methods.

Servicer methods stay one-liners that translate proto <-> plain science calls; this module
turns domain exceptions into rich gRPC statuses (google.rpc.BadRequest field violations),
bounds concurrency (RESOURCE_EXHAUSTED instead of unbounded queues, with a
google.rpc.RetryInfo delay estimated from the work in flight), runs blocking science in a
bounded thread pool, and records Prometheus metrics.

Every admitted request owns a ``RunControl`` (services.common.control). When the client
hangs up or its deadline passes, the handler is cancelled: ``run_blocking`` then cancels
the control (kernels stop at their next check) and keeps the admission slot until the
work has really stopped, so the in-flight count is the work actually running.

A request sent with ``zuhur-validate-only: 1`` metadata is not admitted (it takes no slot)
and runs on a small pool of its own: the science code raises ``Validated`` from
``RunControl.begin``/``validated`` once its checks pass, which becomes an empty OK reply.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import grpc
from google.protobuf import any_pb2, descriptor_pool, duration_pb2, message_factory
from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from services.common import control as run_control
from services.common import observe
from services.common.control import VALIDATE_ONLY, RunControl
from services.common.errors import Cancelled, InvalidArgument, Validated, WorkTimeout
from services.common.metrics import GRPC_DURATION, GRPC_IN_FLIGHT, GRPC_REJECTED, GRPC_REQUESTS

log = logging.getLogger(__name__)
T = TypeVar("T")


_CONTROL: contextvars.ContextVar[RunControl | None] = contextvars.ContextVar(
    "zuhur_run_control", default=None
)
# Weight of the newest request in the running mean of request durations.
_DURATION_WEIGHT = 0.3


def current_control() -> RunControl:
    """The admitted request's control (a fresh one outside an admitted request)."""
    ctl = _CONTROL.get()
    return ctl if ctl is not None else RunControl()


class Admission:
    """Counts in-flight requests and refuses new ones beyond a fixed limit (no queueing);
    knows their controls, so it can tell when a slot is likely to free up."""

    def __init__(self, service: str, limit: int) -> None:
        self.service = service
        self.limit = limit
        self.in_flight = 0
        self.controls: set[RunControl] = set()
        self.typical_seconds: float | None = None  # running mean of request durations

    def try_enter(self) -> RunControl | None:
        """A control for the new request, or None when every slot is taken."""
        if self.in_flight >= self.limit:
            return None
        self.in_flight += 1
        GRPC_IN_FLIGHT.labels(self.service).inc()
        ctl = RunControl()
        self.controls.add(ctl)
        return ctl

    def leave(self, ctl: RunControl) -> None:
        self.in_flight -= 1
        GRPC_IN_FLIGHT.labels(self.service).dec()
        self.controls.discard(ctl)
        took = time.monotonic() - ctl.started
        old = self.typical_seconds
        self.typical_seconds = took if old is None else old + _DURATION_WEIGHT * (took - old)

    def retry_after(self) -> float:
        """Seconds until the first admitted request is expected to finish (at least 1).

        Each request's remaining time comes from its own progress and pace; one without
        progress yet is expected to take the typical duration of recent requests.
        """
        now = time.monotonic()
        waits = []
        for ctl in self.controls:
            left = ctl.remaining_seconds()
            if left is None and self.typical_seconds is not None:
                left = self.typical_seconds - (now - ctl.started)
            if left is not None:
                waits.append(left)
        return max(1.0, min(waits)) if waits else 1.0


class ServicerBase:
    """Base of Zuhur servicers: owns the worker pool and the admission counter."""

    service_name = "zuhur.v1.Unknown"

    def __init__(self, workers: int, max_in_flight: int) -> None:
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kernel")
        # Validate-only requests never wait behind running work for a worker thread.
        self.validator = ThreadPoolExecutor(max_workers=2, thread_name_prefix="validate")
        self.admission = Admission(self.service_name, max_in_flight)

    async def run_blocking(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking science on the worker pool so the event loop stays free.

        The worker thread is bound to the request's control (``control.current()``; the
        fitting budget checks read it). If the caller is cancelled, the control is
        cancelled and this returns only once ``fn`` has stopped.
        """
        ctl = kwargs.get("control") or current_control()

        def bound() -> T:
            run_control.bind(ctl)
            try:
                return fn(*args, **kwargs)
            finally:
                run_control.bind(None)

        loop = asyncio.get_running_loop()
        pool = self.validator if ctl.validate_only else self.executor
        work = loop.run_in_executor(pool, bound)
        try:
            return await asyncio.shield(work)
        except asyncio.CancelledError:
            ctl.cancel()
            await asyncio.wait({work})  # hold the slot until the work has stopped
            if not work.cancelled():
                work.exception()  # retrieved: the expected Cancelled is not an error
            raise

    def nodes_per_replicate(self, request: Any) -> int:
        """Graph size of one replicate of ``request``, for the engine's nodes/s (0: none)."""
        return 0

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.validator.shutdown(wait=False, cancel_futures=True)


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


def busy_status(limit: int, retry_after: float) -> grpc.Status:
    """RESOURCE_EXHAUSTED carrying a google.rpc.RetryInfo delay of ``retry_after`` seconds."""
    whole = math.ceil(retry_after)
    info = error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=whole))
    detail = any_pb2.Any()
    detail.Pack(info)
    message = (
        f"server busy: {limit} requests in flight (max_in_flight); "
        f"retry in about {whole} s, when the first is expected to finish"
    )
    return rpc_status.to_status(
        status_pb2.Status(code=code_pb2.RESOURCE_EXHAUSTED, message=message, details=[detail])
    )


def validate_only(context: grpc.aio.ServicerContext) -> bool:
    """Whether the caller asked only to validate (``zuhur-validate-only: 1`` metadata)."""
    return any(
        key == VALIDATE_ONLY and value in ("1", "true")
        for key, value in context.invocation_metadata() or ()
    )


def empty_reply(service: str, method: str) -> Message:
    """An empty response message of ``service.method`` (a validate-only request's reply)."""
    found = descriptor_pool.Default().FindServiceByName(service).methods_by_name[method]
    reply: Message = message_factory.GetMessageClass(found.output_type)()
    return reply


async def _enter(self: ServicerBase, method: str, context: grpc.aio.ServicerContext) -> RunControl:
    observe.bind_request(context)
    if validate_only(context):  # cheap checks only: no admission slot
        checking = RunControl(validate_only=True)
        _CONTROL.set(checking)
        return checking
    ctl = self.admission.try_enter()
    if ctl is None:
        GRPC_REJECTED.labels(self.service_name, method).inc()
        GRPC_REQUESTS.labels(self.service_name, method, "RESOURCE_EXHAUSTED").inc()
        observe.log_rpc(self.service_name, method, "RESOURCE_EXHAUSTED", 0.0)
        await context.abort_with_status(
            busy_status(self.admission.limit, self.admission.retry_after())
        )
        raise AssertionError("abort_with_status returned")  # it always raises
    _CONTROL.set(ctl)
    return ctl


async def _map_error(exc: BaseException, outcome: _Outcome, context: Any, method: str) -> None:
    """Translate a domain or unexpected exception into an aborted RPC."""
    if isinstance(exc, InvalidArgument):
        outcome.code = grpc.StatusCode.INVALID_ARGUMENT
        await context.abort_with_status(invalid_argument_status(exc))
    if isinstance(exc, WorkTimeout):
        outcome.code = grpc.StatusCode.DEADLINE_EXCEEDED
        await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, str(exc))
    if isinstance(exc, (asyncio.CancelledError, GeneratorExit, Cancelled)):  # client went away
        outcome.code = grpc.StatusCode.CANCELLED
        raise exc
    if isinstance(exc, grpc.aio.AbortError):
        outcome.code = context.code() or grpc.StatusCode.UNKNOWN
        raise exc
    outcome.code = grpc.StatusCode.INTERNAL
    log.exception("%s failed", method)
    await context.abort(grpc.StatusCode.INTERNAL, f"internal error in {method}")


def _record(
    self: ServicerBase,
    method: str,
    outcome: _Outcome,
    start: float,
    ctl: RunControl,
    request: Any,
) -> None:
    elapsed = time.perf_counter() - start
    if ctl.validate_only:
        GRPC_REQUESTS.labels(self.service_name, method, outcome.code.name).inc()
        return
    self.admission.leave(ctl)
    GRPC_REQUESTS.labels(self.service_name, method, outcome.code.name).inc()
    GRPC_DURATION.labels(self.service_name, method).observe(elapsed)
    replicates = ctl.finished
    observe.count_work(
        self.service_name, method, replicates, replicates * self.nodes_per_replicate(request)
    )
    observe.log_rpc(self.service_name, method, outcome.code.name, elapsed)


def unary(
    func: Callable[[Any, Any, grpc.aio.ServicerContext], Awaitable[Any]],
) -> Callable[[Any, Any, grpc.aio.ServicerContext], Awaitable[Any]]:
    """Wrap a unary servicer method with admission, error mapping and metrics."""
    method = func.__name__

    @functools.wraps(func)
    async def wrapper(self: ServicerBase, request: Any, context: grpc.aio.ServicerContext) -> Any:
        ctl = await _enter(self, method, context)
        outcome, start = _Outcome(), time.perf_counter()
        try:
            return await func(self, request, context)
        except Validated:
            return empty_reply(self.service_name, method)
        except BaseException as exc:
            await _map_error(exc, outcome, context, method)
            raise
        finally:
            _record(self, method, outcome, start, ctl, request)

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
        ctl = await _enter(self, method, context)
        outcome, start = _Outcome(), time.perf_counter()
        try:
            async for item in func(self, request, context):
                yield item
        except Validated:
            return
        except BaseException as exc:
            await _map_error(exc, outcome, context, method)
            raise
        finally:
            _record(self, method, outcome, start, ctl, request)

    return wrapper
