"""The one path every computing route takes: cache lookup, single flight, gRPC call.

Routes only name the service method and pass the validated body; this module decides
HIT / MISS / BYPASS, calls the service with a deadline, stores seeded results, and for
server-streaming methods either drains the stream (JSON) or relays it (NDJSON).

``Cache-Control: no-cache`` on a request (``no_cache``) skips the lookup but still stores
the result (``X-Cache: BYPASS``). A client that hangs up cancels the upstream call, so
the service stops computing and frees its slot.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
from fastapi import Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from google.protobuf.message import Message

from gateway.core.cache import CacheStatus, ResultCache, cache_key
from gateway.core.clients import SIMULATION, Upstreams
from gateway.core.errors import grpc_problem_body
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
    ctx: Context, call: Call, message: Message, fresh: bool = False
) -> tuple[dict[str, Any], CacheStatus]:
    """The response JSON of ``message`` and whether it came from the cache; ``fresh``
    (``no_cache``) computes it without a lookup and stores it (BYPASS)."""
    found = await lookup_key(ctx, call, message)
    if found is None:
        CACHE_LOOKUPS.labels("bypass").inc()
        return to_json(await invoke(call, message)), "BYPASS"
    key, version = found
    cache = ctx.cache
    token = None
    hit = None if fresh else await cache.get(key)
    if hit is None and cache.available and not fresh:
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
            status = "BYPASS" if fresh else "MISS"
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
) -> Response:
    """Route body: validated JSON -> proto request -> cached upstream call -> JSON response.

    For a server-streaming method, ``stream_field`` names the final event's result field.
    """
    svg = plots.wants_svg(request.headers)
    if svg and (refused := plots.refuse_unplotted(method)) is not None:
        return refused
    ctx = context(request)
    message = from_json(body.model_dump(), message_type)
    call = ctx.call(service, method)
    if stream_field is not None:
        call = final_event(call, stream_field)
    work = cached_json(ctx, call, message, fresh=no_cache(request.headers))
    try:
        result, status = await unless_disconnected(request, work)
    except ClientDisconnected:  # nobody reads this; the upstream call was cancelled
        return JSONResponse(None, status_code=499)
    if svg:  # the picture of the same (cached) result
        headers = {"X-Cache": status}
        return await plots.svg_response(method, result, body.model_dump(), headers)
    return JSONResponse(result, headers={"X-Cache": status})


async def stream_ndjson(
    request: Request, body: Any, message_type: type[Message], service: str, method: str, field: str
) -> Response:
    """NDJSON: one line per event, the result last. Validation, the cache lookup and the
    first upstream event (the service sends progress at once) all happen before the first
    byte, so their errors keep their status; a later failure is the last line, as
    ``{"error": problem}`` with the status the JSON route would have given. A client that
    hangs up cancels the upstream stream.
    """
    ctx = context(request)
    message = from_json(body.model_dump(), message_type)
    call = ctx.call(service, method)
    fresh = no_cache(request.headers)
    found = await lookup_key(ctx, call, message)
    key = found[0] if found else None
    if key is not None and not fresh and (hit := await ctx.cache.get(key)) is not None:
        CACHE_LOOKUPS.labels("hit").inc()
        line = json.dumps({field: hit}) + "\n"
        return Response(line, media_type=NDJSON, headers={"X-Cache": "HIT"})

    stream = call.invoke(message, timeout=call.deadline)
    events = stream.__aiter__()
    try:
        first = await unless_disconnected(request, events.__anext__())
    except grpc.aio.AioRpcError as exc:
        UPSTREAM_ERRORS.labels(method, exc.code().name).inc()
        raise
    except ClientDisconnected:
        stream.cancel()
        return Response(status_code=499)
    stored: list[CacheStatus] = ["BYPASS"]

    async def lines() -> AsyncIterator[bytes]:
        event: Any = first
        try:
            while True:
                data = to_json(event)
                if field in data and key is not None and await ctx.cache.set(key, data[field]):
                    stored[0] = "BYPASS" if fresh else "MISS"
                yield (json.dumps(data) + "\n").encode()
                try:
                    event = await events.__anext__()
                except StopAsyncIteration:
                    break
                except grpc.aio.AioRpcError as exc:  # after the first byte: report in-band
                    UPSTREAM_ERRORS.labels(method, exc.code().name).inc()
                    problem = grpc_problem_body(exc, service, request.url.path)
                    yield (json.dumps({"error": problem}) + "\n").encode()
                    break
            CACHE_LOOKUPS.labels(stored[0].lower()).inc()
        finally:
            stream.cancel()  # a no-op once finished; stops the service if the client left

    status = "MISS" if key is not None and not fresh else "BYPASS"
    return StreamingResponse(lines(), media_type=NDJSON, headers={"X-Cache": status})
