"""The one path every computing route takes: cache lookup, single flight, gRPC call.

Routes only name the service method and pass the validated body; this module decides
HIT / MISS / BYPASS, calls the service with a deadline, stores seeded results, and for
server-streaming methods either drains the stream (JSON) or relays it (NDJSON). The cache
holds the final response bytes: a hit sends them as they are (no decode, no encode), and
the single-flight lock lives in Redis, so it holds across gateway workers and replicas.
Upstream failures are raised as ``UpstreamError`` (naming the service) for the handler.

``Cache-Control: no-cache`` on a request (``no_cache``) skips the lookup but still stores
the result (``X-Cache: BYPASS``). A client that hangs up cancels the upstream call, so
the service stops computing and frees its slot.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
import orjson
from fastapi import Request
from fastapi.responses import Response, StreamingResponse
from google.protobuf.message import Message

from gateway.api.negotiation import JSON
from gateway.core.cache import CacheStatus, ResultCache, cache_key
from gateway.core.clients import SIMULATION, Upstreams
from gateway.core.config import Settings
from gateway.core.errors import UpstreamError, grpc_problem_body
from gateway.core.metrics import CACHE_LOOKUPS, UPSTREAM_DURATION, UPSTREAM_ERRORS
from gateway.core.protojson import from_json, to_json
from gateway.plots import http as plots

NDJSON = "application/x-ndjson"
T = TypeVar("T")


def no_cache(headers: Mapping[str, str]) -> bool:
    """Whether the request's ``Cache-Control`` asks for a fresh result (``no-cache``): the
    cache lookup is skipped, the result is still stored, the response says BYPASS."""
    directives = headers.get("cache-control", "").lower().split(",")
    return any(d.strip().split("=")[0] == "no-cache" for d in directives)


class ClientDisconnected(Exception):
    """The HTTP client hung up before its response was ready."""


async def until_disconnected(request: Request) -> None:
    """Return once the client has hung up (the body is already read, so ``receive`` only
    reports the disconnect)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def unless_disconnected(request: Request, work: Awaitable[T]) -> T:
    """Await ``work``; if the client hangs up first, cancel it (and the gRPC call it is
    waiting on, so the service stops) and raise ``ClientDisconnected``."""
    task = asyncio.ensure_future(work)
    gone = asyncio.ensure_future(until_disconnected(request))
    try:
        finished, _ = await asyncio.wait({task, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
        if not task.done():
            task.cancel()  # takes effect at the task's next step; nobody waits for it
    if task not in finished:
        raise ClientDisconnected
    return task.result()


@dataclass(frozen=True)
class Call:
    """One upstream method: its service, name, stub callable and deadline."""

    service: str
    method: str
    invoke: Callable[..., Any]
    deadline: float


@dataclass(frozen=True)
class Context:
    """What a cached call needs from the app: clients, cache, settings (see ``deps``)."""

    upstreams: Upstreams
    cache: ResultCache
    settings: Settings

    def call(self, service: str, method: str) -> Call:
        """The upstream ``service.method`` with that service's deadline."""
        if service == SIMULATION:
            stub, deadline = self.upstreams.simulation, self.settings.simulation_deadline_seconds
        else:
            stub, deadline = self.upstreams.fitting, self.settings.fitting_deadline_seconds
        return Call(service, method, getattr(stub, method), deadline)


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
        ctx.settings.cache_schema,
        version,
        f"{call.service}/{call.method}",
        message.SerializeToString(deterministic=True),
    )
    return key, version


async def invoke(call: Call, message: Message) -> Message:
    """Call the service, timing it and counting its errors (raised as ``UpstreamError``)."""
    start = time.perf_counter()
    try:
        return await call.invoke(message, timeout=call.deadline)
    except grpc.aio.AioRpcError as exc:
        UPSTREAM_ERRORS.labels(call.method, exc.code().name).inc()
        raise UpstreamError(call.service, exc) from exc
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


def encode(result: dict[str, Any]) -> bytes:
    """The response body of a result: compact JSON (orjson), the bytes the cache stores."""
    return orjson.dumps(result)


async def store(
    ctx: Context, call: Call, found: tuple[str, str], result: dict[str, Any], body: bytes
) -> bool:
    """Store ``body`` under the request's key if the service still runs the engine version
    in the key; otherwise forget the version so the next request asks again."""
    key, version = found
    if result.get("engine_version", version) == version:
        return await ctx.cache.set(key, body)
    ctx.upstreams.engine_versions.pop(call.service, None)
    return False


async def computed(
    ctx: Context, call: Call, message: Message, found: tuple[str, str] | None, fresh: bool
) -> tuple[bytes, CacheStatus]:
    """The response body of a request the cache did not answer: computed once across every
    gateway worker (single flight on a Redis lock; the others wait for the stored bytes)."""
    if found is None:
        CACHE_LOOKUPS.labels("bypass").inc()
        return encode(to_json(await invoke(call, message))), "BYPASS"
    cache = ctx.cache
    token = None
    if cache.available and not fresh:
        token = await cache.acquire(found[0], ttl_seconds=call.deadline)
        if token is None and cache.available:  # an identical request is computing it
            hit = await cache.wait_for(found[0], ctx.settings.single_flight_wait_seconds)
            if hit is not None:
                CACHE_LOOKUPS.labels("hit").inc()
                return hit, "HIT"
    try:
        result = to_json(await invoke(call, message))
        body = encode(result)
        stored = await store(ctx, call, found, result, body)
        status: CacheStatus = "MISS" if stored and not fresh else "BYPASS"
    finally:
        if token is not None:
            await cache.release(found[0], token)
    CACHE_LOOKUPS.labels(status.lower()).inc()
    return body, status


async def cached_hit(ctx: Context, found: tuple[str, str] | None, fresh: bool) -> bytes | None:
    """The stored response body of this request, unless it is not cacheable or ``fresh``."""
    if found is None or fresh:
        return None
    hit = await ctx.cache.get(found[0])
    if hit is not None:
        CACHE_LOOKUPS.labels("hit").inc()
    return hit


async def respond(
    ctx: Context,
    request: Request,
    body: Any,
    message_type: type[Message],
    service: str,
    method: str,
    stream_field: str | None = None,
) -> Response:
    """Route body: validated JSON -> proto request -> cached upstream call -> JSON bytes
    (or, for ``Accept: image/svg+xml``, the picture of the same cached result).

    For a server-streaming method, ``stream_field`` names the final event's result field.
    A hit is one Redis GET; only a computation watches for the client hanging up.
    """
    svg = plots.wants_svg(request.headers)  # only routes that list a picture get here
    message = from_json(body.model_dump(), message_type)
    call = ctx.call(service, method)
    if stream_field is not None:
        call = final_event(call, stream_field)
    fresh = no_cache(request.headers)
    found = await lookup_key(ctx, call, message)
    hit = await cached_hit(ctx, found, fresh)
    if hit is not None:
        content, status = hit, "HIT"
    else:
        try:
            content, status = await unless_disconnected(
                request, computed(ctx, call, message, found, fresh)
            )
        except ClientDisconnected:  # nobody reads this; the upstream call was cancelled
            return Response(status_code=499)
    if svg:
        headers = {"X-Cache": status}
        return await plots.svg_response(method, orjson.loads(content), body.model_dump(), headers)
    return Response(content, media_type=JSON, headers={"X-Cache": status})


async def stream_ndjson(
    ctx: Context,
    request: Request,
    body: Any,
    message_type: type[Message],
    service: str,
    method: str,
    field: str,
) -> Response:
    """NDJSON: one line per event, the result last. Validation, the cache lookup and the
    first upstream event (the service sends progress at once) all happen before the first
    byte, so their errors keep their status; a later failure is the last line, as
    ``{"error": problem}`` with the status the JSON route would have given. A client that
    hangs up cancels the upstream stream.
    """
    message = from_json(body.model_dump(), message_type)
    call = ctx.call(service, method)
    fresh = no_cache(request.headers)
    found = await lookup_key(ctx, call, message)
    hit = await cached_hit(ctx, found, fresh)
    if hit is not None:
        line = b'{"' + field.encode() + b'":' + hit + b"}\n"
        return Response(line, media_type=NDJSON, headers={"X-Cache": "HIT"})

    stream = call.invoke(message, timeout=call.deadline)
    events = stream.__aiter__()
    try:
        first = await unless_disconnected(request, events.__anext__())
    except grpc.aio.AioRpcError as exc:
        UPSTREAM_ERRORS.labels(method, exc.code().name).inc()
        raise UpstreamError(service, exc) from exc
    except ClientDisconnected:
        stream.cancel()
        return Response(status_code=499)
    stored: list[CacheStatus] = ["BYPASS"]

    async def lines() -> AsyncIterator[bytes]:
        event: Any = first
        try:
            while True:
                data = to_json(event)
                if field in data and found is not None:
                    result = data[field]
                    if await store(ctx, call, found, result, encode(result)):
                        stored[0] = "BYPASS" if fresh else "MISS"
                yield orjson.dumps(data, option=orjson.OPT_APPEND_NEWLINE)
                try:
                    event = await events.__anext__()
                except StopAsyncIteration:
                    break
                except grpc.aio.AioRpcError as exc:  # after the first byte: report in-band
                    UPSTREAM_ERRORS.labels(method, exc.code().name).inc()
                    problem = grpc_problem_body(exc, service, request.url.path)
                    yield orjson.dumps({"error": problem}, option=orjson.OPT_APPEND_NEWLINE)
                    break
            CACHE_LOOKUPS.labels(stored[0].lower()).inc()
        finally:
            stream.cancel()  # a no-op once finished; stops the service if the client left

    status = "MISS" if found is not None and not fresh else "BYPASS"
    return StreamingResponse(lines(), media_type=NDJSON, headers={"X-Cache": status})
