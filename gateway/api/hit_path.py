"""Cached hits answered before FastAPI's request machinery: the gateway's hot path.

A hit needs the validated body, its cache key and one cache lookup; FastAPI's routing over
every route, dependency solving and response building cost several times that (issue 13).
``CachedHits`` is a pure ASGI layer inside the key, quota and body-limit layers (so those
still hold) that recognises a computing route's ``POST``, reads the body, validates it with
the route's own model (the same pydantic validator FastAPI would run), builds the key and
asks the cache (``cached_call.lookup_key`` / ``cached_hit``: the same key, signature check
and ``hit`` count). A hit is sent as it is with ``X-Cache: HIT``. Everything else (invalid
or non-JSON body, a miss, ``no-cache``, SVG or NDJSON wanted, an engine version not known
yet, any error) goes on to FastAPI with the body replayed, so its answers, 422s included,
are exactly the ordinary route's.

Validation is a pure function of the body's bytes, so the request message of a small body
that validated is remembered (``MEMO_BYTES`` in all, per process): a repeated body, the
usual popular request, skips JSON decoding, validation and the proto build, and only its
key is computed again (the engine version may have changed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from cachetools import LRUCache
from google.protobuf.message import Message as Proto
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.api.cached_call import JSON, NDJSON, Context, cached_hit, final_event, lookup_key
from gateway.api.negotiation import preferred
from gateway.core.metrics import ROUTE_SCOPE_KEY
from gateway.core.protojson import from_json
from gateway.plots.render import SVG

# Bodies up to MEMO_BODY_BYTES have their validated request message remembered, at most
# MEMO_BYTES of bodies in all.
MEMO_BODY_BYTES = 4096
MEMO_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class HitRoute:
    """A computing route the hot path may answer: its body model and upstream method."""

    template: str  # the full path, as metrics and the access log name it
    body_model: Any  # the pydantic request model FastAPI validates the body with
    request_type: Any  # the proto request message
    service: str
    method: str
    stream_field: str | None = None


def _is_json(content_type: bytes) -> bool:
    """FastAPI's test for a JSON body: ``application/json`` or ``application/*+json``."""
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or (
        media.startswith(b"application/") and media.endswith(b"+json")
    )


# What a computing route can answer in; ties and */* go to the last, JSON (negotiation.py).
ANSWERS = [SVG, NDJSON, JSON]


def _wants_plain_json(headers: list[tuple[bytes, bytes]]) -> bool:
    """A JSON body, a JSON answer (no SVG or NDJSON asked for), and no ``no-cache``."""
    json_body = False
    for name, value in headers:
        if name == b"content-type":
            json_body = _is_json(value)
        elif name == b"accept":  # the route's own negotiation answers anything but JSON (or 406)
            if preferred(value.decode("latin-1"), ANSWERS) != JSON:
                return False
        elif name == b"cache-control" and b"no-cache" in value.lower():
            return False
    return json_body


class CachedHits:
    """ASGI middleware answering cached hits of the routes in ``routes`` (by full path)."""

    def __init__(
        self, app: ASGIApp, routes: dict[str, HitRoute], context: Callable[[Scope], Context]
    ) -> None:
        self.app = app
        self.routes = routes
        self.context = context
        # (path, body) -> (body size, request message): what the body validated into.
        self.memo: LRUCache[tuple[str, bytes], tuple[int, Proto]] = LRUCache(
            MEMO_BYTES, getsizeof=lambda entry: entry[0]
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.routes.get(scope["path"]) if scope["type"] == "http" else None
        if route is None or scope["method"] != "POST" or not _wants_plain_json(scope["headers"]):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        chunks: list[bytes] = []
        while True:  # the body limit's receive counts and bounds what is read here
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        if messages[-1]["type"] == "http.request":
            hit = await self._hit(scope, route, b"".join(chunks))
            if hit is not None:
                scope[ROUTE_SCOPE_KEY] = route.template
                await send({"type": "http.response.start", "status": 200, "headers": [
                    (b"content-length", str(len(hit)).encode()),
                    (b"content-type", JSON.encode()),
                    (b"x-cache", b"HIT"),
                ]})  # fmt: skip
                await send({"type": "http.response.body", "body": hit})
                return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _hit(self, scope: Scope, route: HitRoute, body: bytes) -> bytes | None:
        """The stored answer of a valid body, or None (for FastAPI to handle)."""
        try:
            ctx = self.context(scope)
        except AttributeError:  # no lifespan ran (the app's own handlers say what to do)
            return None
        if route.service not in ctx.upstreams.engine_versions:
            return None  # the first request asks the service (and maps its failure)
        message = self._message(route, body)
        if message is None:
            return None
        call = ctx.call(route.service, route.method)
        if route.stream_field is not None:
            call = final_event(call, route.stream_field)
        return await cached_hit(ctx, await lookup_key(ctx, call, message), fresh=False)

    def _message(self, route: HitRoute, body: bytes) -> Proto | None:
        """The request message of a valid body (remembered for small ones), else None."""
        memo_key = (route.template, body)
        remembered = self.memo.get(memo_key)
        if remembered is not None:
            return remembered[1]
        try:  # any failure: FastAPI gives this body its proper answer
            valid = route.body_model.model_validate(orjson.loads(body))
        except Exception:
            return None
        message: Proto = from_json(valid.model_dump(), route.request_type)
        if len(body) <= MEMO_BODY_BYTES:
            self.memo[memo_key] = (len(body) + 64, message)
        return message
