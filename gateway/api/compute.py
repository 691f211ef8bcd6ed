"""The one path every computing route takes: cache lookup, single flight, gRPC call.

Routes only name the service method and pass the request message; this helper decides
HIT / MISS / BYPASS, calls the service with a deadline, and stores seeded results.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
from fastapi import Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from google.protobuf.message import Message

from gateway.core.cache import CacheStatus, ResultCache, cache_key
from gateway.core.clients import SIMULATION, Upstreams
from gateway.core.metrics import CACHE_LOOKUPS, UPSTREAM_DURATION, UPSTREAM_ERRORS
from gateway.core.protojson import from_json, to_json


@dataclass(frozen=True)
class Call:
    """One upstream method: its service, name, stub callable and deadline."""

    service: str
    method: str
    invoke: Callable[..., Awaitable[Message]]
    deadline: float


def cacheable(message: Message) -> bool:
    """Random results are cached only when seeded; deterministic ones always.

    A request is random when it has a ``seed`` field, unless it also has a ``bootstrap``
    field set to 0 (a fit without resampling is deterministic).
    """
    fields = message.DESCRIPTOR.fields_by_name
    if "seed" not in fields or message.HasField("seed"):
        return True
    return "bootstrap" in fields and message.bootstrap == 0  # type: ignore[attr-defined]


async def invoke(request: Request, call: Call, message: Message) -> Message:
    """Call the service, timing it and tagging errors with the service's name."""
    request.scope["zuhur_service"] = call.service
    start = time.perf_counter()
    try:
        return await call.invoke(message, timeout=call.deadline)
    except grpc.aio.AioRpcError as exc:
        UPSTREAM_ERRORS.labels(call.method, exc.code().name).inc()
        raise
    finally:
        UPSTREAM_DURATION.labels(call.method).observe(time.perf_counter() - start)


async def cached_json(
    request: Request,
    call: Call,
    message: Message,
    upstreams: Upstreams,
    cache: ResultCache,
    single_flight_wait: float,
) -> tuple[dict[str, Any], CacheStatus]:
    """The response JSON of ``message`` and whether it came from the cache."""
    if not cacheable(message) or not cache.available:
        CACHE_LOOKUPS.labels("bypass").inc()
        return to_json(await invoke(request, call, message)), "BYPASS"

    request.scope["zuhur_service"] = call.service
    version = await upstreams.engine_version(call.service)
    key = cache_key(
        cache.settings.cache_schema,
        version,
        f"{call.service}/{call.method}",
        message.SerializeToString(deterministic=True),
    )
    hit = await cache.get(key)
    if hit is None and cache.available:
        token = await cache.acquire(key, ttl_seconds=call.deadline)
        if token is None and cache.available:
            hit = await cache.wait_for(key, single_flight_wait)
    else:
        token = None
    if hit is not None:
        CACHE_LOOKUPS.labels("hit").inc()
        return hit, "HIT"
    try:
        result = to_json(await invoke(request, call, message))
        status: CacheStatus = "BYPASS"
        if result.get("engine_version", version) == version and await cache.set(key, result):
            status = "MISS"
        else:
            upstreams.engine_versions.pop(call.service, None)  # re-ask on the next request
    finally:
        if token is not None:
            await cache.release(key, token)
    CACHE_LOOKUPS.labels(status.lower()).inc()
    return result, status


def json_response(body: dict[str, Any], status: CacheStatus) -> JSONResponse:
    return JSONResponse(body, headers={"X-Cache": status})


async def respond(
    request: Request,
    body: Any,
    message_type: type[Message],
    service: str,
    method: str,
    stream_field: str | None = None,
) -> JSONResponse:
    """Route body: validated JSON -> proto request -> cached upstream call -> JSON response.

    For a server-streaming method, ``stream_field`` names the final event's result field.
    """
    state = request.app.state
    upstreams: Upstreams = state.upstreams
    settings = state.settings
    message = from_json(body.model_dump(), message_type)
    stub = upstreams.simulation if service == SIMULATION else upstreams.fitting
    deadline = (
        settings.simulation_deadline_seconds
        if service == SIMULATION
        else settings.fitting_deadline_seconds
    )
    invoker = getattr(stub, method)
    if stream_field is not None:
        invoker = final_event(invoker, stream_field)
    call = Call(service, method, invoker, deadline)
    result, status = await cached_json(
        request, call, message, upstreams, state.cache, settings.single_flight_wait_seconds
    )
    return json_response(result, status)


NDJSON = "application/x-ndjson"


def final_event(stream_method: Callable[..., Any], field: str) -> Callable[..., Awaitable[Message]]:
    """A unary view of a server-streaming RPC: drain it and return the ``field`` of its last
    event (progress events are skipped), so streams share the unary caching path."""

    async def invoke(message: Message, timeout: float) -> Message:
        result: Message | None = None
        async for event in stream_method(message, timeout=timeout):
            if event.HasField(field):
                result = getattr(event, field)
        if result is None:
            raise RuntimeError(f"stream ended without a {field}")
        return result

    return invoke


async def stream_ndjson(
    request: Request, body: Any, message_type: type[Message], service: str, method: str, field: str
) -> Response:
    """NDJSON: one line per event, the result last. Validation, the cache lookup and the
    first upstream event all happen before the first byte, so their errors keep their status.
    """
    state = request.app.state
    upstreams: Upstreams = state.upstreams
    cache: ResultCache = state.cache
    message = from_json(body.model_dump(), message_type)
    stub = upstreams.simulation if service == SIMULATION else upstreams.fitting
    deadline = state.settings.simulation_deadline_seconds
    key = None
    if cacheable(message) and cache.available:
        request.scope["zuhur_service"] = service
        version = await upstreams.engine_version(service)
        key = cache_key(
            cache.settings.cache_schema,
            version,
            f"{service}/{method}",
            message.SerializeToString(deterministic=True),
        )
        hit = await cache.get(key)
        if hit is not None:
            CACHE_LOOKUPS.labels("hit").inc()
            line = json.dumps({field: hit}) + "\n"
            return Response(line, media_type=NDJSON, headers={"X-Cache": "HIT"})

    request.scope["zuhur_service"] = service
    events = getattr(stub, method)(message, timeout=deadline).__aiter__()
    try:
        first = await events.__anext__()
    except grpc.aio.AioRpcError as exc:
        UPSTREAM_ERRORS.labels(method, exc.code().name).inc()
        raise
    stored: dict[str, CacheStatus] = {"status": "BYPASS"}

    async def lines() -> AsyncIterator[bytes]:
        event: Any = first
        while True:
            data = to_json(event)
            if field in data and key is not None and await cache.set(key, data[field]):
                stored["status"] = "MISS"
            yield (json.dumps(data) + "\n").encode()
            try:
                event = await events.__anext__()
            except StopAsyncIteration:
                break
            except grpc.aio.AioRpcError as exc:
                UPSTREAM_ERRORS.labels(method, exc.code().name).inc()
                problem = {"status": 502, "title": "Stream failed", "detail": exc.details()}
                yield (json.dumps({"error": problem}) + "\n").encode()
                break
        CACHE_LOOKUPS.labels(stored["status"].lower()).inc()

    status = "MISS" if key is not None else "BYPASS"
    return StreamingResponse(lines(), media_type=NDJSON, headers={"X-Cache": status})
