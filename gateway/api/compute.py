"""The one path every computing route takes: cache lookup, single flight, gRPC call.

Routes only name the service method and pass the validated body; this module decides
HIT / MISS / BYPASS, calls the service with a deadline, stores seeded results, and for
server-streaming methods either drains the stream (JSON) or relays it (NDJSON).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
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

NDJSON = "application/x-ndjson"


@dataclass(frozen=True)
class Call:
    """One upstream method: its service, name, stub callable and deadline."""

    service: str
    method: str
    invoke: Callable[..., Any]
    deadline: float


@dataclass(frozen=True)
class Context:
    """What a computing request needs from the app: clients, cache, settings."""

    request: Request
    upstreams: Upstreams
    cache: ResultCache
    single_flight_wait: float

    def call(self, service: str, method: str) -> Call:
        """The upstream ``service.method`` with that service's deadline."""
        settings = self.request.app.state.settings
        if service == SIMULATION:
            stub, deadline = self.upstreams.simulation, settings.simulation_deadline_seconds
        else:
            stub, deadline = self.upstreams.fitting, settings.fitting_deadline_seconds
        self.request.scope["zuhur_service"] = service  # named in 503 problems
        return Call(service, method, getattr(stub, method), deadline)


def context(request: Request) -> Context:
    state = request.app.state
    return Context(request, state.upstreams, state.cache, state.settings.single_flight_wait_seconds)


def cacheable(message: Message) -> bool:
    """Random results are cached only when seeded; deterministic ones always.

    A request is random when it has a ``seed`` field, unless it also has a ``bootstrap``
    field set to 0 (a fit without resampling is deterministic).
    """
    fields = message.DESCRIPTOR.fields_by_name
    if "seed" not in fields or message.HasField("seed"):
        return True
    return "bootstrap" in fields and message.bootstrap == 0  # type: ignore[attr-defined]


async def lookup_key(ctx: Context, call: Call, message: Message) -> tuple[str, str] | None:
    """(cache key, engine version) of a cacheable request while Redis is usable, else None."""
    if not cacheable(message) or not ctx.cache.available:
        return None
    version = await ctx.upstreams.engine_version(call.service)
    key = cache_key(
        ctx.cache.settings.cache_schema,
        version,
        f"{call.service}/{call.method}",
        message.SerializeToString(deterministic=True),
    )
    return key, version


async def invoke(call: Call, message: Message) -> Message:
    """Call the service, timing it and counting its errors."""
    start = time.perf_counter()
    try:
        return await call.invoke(message, timeout=call.deadline)
    except grpc.aio.AioRpcError as exc:
        UPSTREAM_ERRORS.labels(call.method, exc.code().name).inc()
        raise
    finally:
        UPSTREAM_DURATION.labels(call.method).observe(time.perf_counter() - start)


def final_event(call: Call, field: str) -> Call:
    """A unary view of a server-streaming RPC: drain it and return the ``field`` of its last
    event (progress events are skipped), so streams share the unary caching path."""

    async def drain(message: Message, timeout: float) -> Message:
        result: Message | None = None
        async for event in call.invoke(message, timeout=timeout):
            if event.HasField(field):
                result = getattr(event, field)
        if result is None:
            raise RuntimeError(f"stream ended without a {field}")
        return result

    return Call(call.service, call.method, drain, call.deadline)


async def cached_json(
    ctx: Context, call: Call, message: Message
) -> tuple[dict[str, Any], CacheStatus]:
    """The response JSON of ``message`` and whether it came from the cache."""
    found = await lookup_key(ctx, call, message)
    if found is None:
        CACHE_LOOKUPS.labels("bypass").inc()
        return to_json(await invoke(call, message)), "BYPASS"
    key, version = found
    cache = ctx.cache
    token = None
    hit = await cache.get(key)
    if hit is None and cache.available:
        token = await cache.acquire(key, ttl_seconds=call.deadline)
        if token is None and cache.available:  # an identical request is computing it
            hit = await cache.wait_for(key, ctx.single_flight_wait)
    if hit is not None:
        CACHE_LOOKUPS.labels("hit").inc()
        return hit, "HIT"
    try:
        result = to_json(await invoke(call, message))
        status: CacheStatus = "BYPASS"
        if result.get("engine_version", version) == version and await cache.set(key, result):
            status = "MISS"
        else:
            ctx.upstreams.engine_versions.pop(call.service, None)  # re-ask on the next request
    finally:
        if token is not None:
            await cache.release(key, token)
    CACHE_LOOKUPS.labels(status.lower()).inc()
    return result, status


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
    ctx = context(request)
    message = from_json(body.model_dump(), message_type)
    call = ctx.call(service, method)
    if stream_field is not None:
        call = final_event(call, stream_field)
    result, status = await cached_json(ctx, call, message)
    return JSONResponse(result, headers={"X-Cache": status})


async def stream_ndjson(
    request: Request, body: Any, message_type: type[Message], service: str, method: str, field: str
) -> Response:
    """NDJSON: one line per event, the result last. Validation, the cache lookup and the
    first upstream event all happen before the first byte, so their errors keep their status.
    """
    ctx = context(request)
    message = from_json(body.model_dump(), message_type)
    call = ctx.call(service, method)
    found = await lookup_key(ctx, call, message)
    key = found[0] if found else None
    if key is not None and (hit := await ctx.cache.get(key)) is not None:
        CACHE_LOOKUPS.labels("hit").inc()
        line = json.dumps({field: hit}) + "\n"
        return Response(line, media_type=NDJSON, headers={"X-Cache": "HIT"})

    events = call.invoke(message, timeout=call.deadline).__aiter__()
    try:
        first = await events.__anext__()
    except grpc.aio.AioRpcError as exc:
        UPSTREAM_ERRORS.labels(method, exc.code().name).inc()
        raise
    stored: list[CacheStatus] = ["BYPASS"]

    async def lines() -> AsyncIterator[bytes]:
        event: Any = first
        while True:
            data = to_json(event)
            if field in data and key is not None and await ctx.cache.set(key, data[field]):
                stored[0] = "MISS"
            yield (json.dumps(data) + "\n").encode()
            try:
                event = await events.__anext__()
            except StopAsyncIteration:
                break
            except grpc.aio.AioRpcError as exc:  # after the first byte: report in-band
                UPSTREAM_ERRORS.labels(method, exc.code().name).inc()
                problem = {"status": 502, "title": "Stream failed", "detail": exc.details()}
                yield (json.dumps({"error": problem}) + "\n").encode()
                break
        CACHE_LOOKUPS.labels(stored[0].lower()).inc()

    status = "MISS" if key is not None else "BYPASS"
    return StreamingResponse(lines(), media_type=NDJSON, headers={"X-Cache": status})
