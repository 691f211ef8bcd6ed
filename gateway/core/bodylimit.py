"""Refuse request bodies over ``ZUHUR_GATEWAY_MAX_BODY_BYTES`` while reading them (413), and
bodies that stall longer than ``ZUHUR_GATEWAY_BODY_READ_TIMEOUT_SECONDS`` between chunks (408).

A pure ASGI middleware: a declared ``Content-Length`` over the limit is answered before a
byte of the body is read (uvicorn stops reading the socket while nobody calls ``receive``);
a chunked body is counted as it arrives and refused as soon as the count passes the limit,
so the gateway holds at most the limit of one body per request. A sender that stops sending
mid-body (slowloris) is answered 408 instead of holding the connection and its buffer.
(FastAPI's own ``max_body_size`` answers a declared length with text/plain whatever the
app's handlers say; every refusal here is problem+json.)
"""

from __future__ import annotations

import asyncio
import json

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.core.errors import PROBLEM, problem_body


class BodyTooLarge(HTTPException):
    """The request body passed the configured limit; the app's handler renders the 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large_detail(limit))


class BodyTimeout(HTTPException):
    """The client sent nothing for the read timeout in the middle of its body."""

    def __init__(self, seconds: float) -> None:
        super().__init__(408, too_slow_detail(seconds))


def too_slow_detail(seconds: float) -> str:
    return f"no request body data for {seconds:g} s (ZUHUR_GATEWAY_BODY_READ_TIMEOUT_SECONDS)"


def too_large_detail(limit: int) -> str:
    return f"request body larger than {limit} bytes (ZUHUR_GATEWAY_MAX_BODY_BYTES)"


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimit:
    """ASGI middleware: at most ``limit`` bytes of request body, each chunk within
    ``read_timeout`` seconds of the last; else 413 / 408 problem+json."""

    def __init__(self, app: ASGIApp, limit: int, read_timeout: float) -> None:
        self.app = app
        self.limit = limit
        self.read_timeout = read_timeout

    async def _refuse(self, send: Send, slow: bool = False) -> None:
        if slow:
            problem = problem_body(408, "Request timeout", too_slow_detail(self.read_timeout))
        else:
            problem = problem_body(413, "Request body too large", too_large_detail(self.limit))
        body = json.dumps(problem).encode()
        headers = [
            (b"content-type", PROBLEM.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        status = int(problem["status"])
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.limit:
            await self._refuse(send)
            return
        seen = 0
        exceeded = started = slow = complete = False

        async def counted_receive() -> Message:
            nonlocal seen, exceeded, slow, complete
            if complete:  # body read: the next message is the disconnect, whenever it comes
                return await receive()
            try:  # a timeout scope, not wait_for: no task per chunk
                async with asyncio.timeout(self.read_timeout):
                    message = await receive()
            except TimeoutError:
                exceeded = slow = True
                raise BodyTimeout(self.read_timeout) from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                complete = not message.get("more_body", False)
                if seen > self.limit:
                    exceeded = True
                    raise BodyTooLarge(self.limit)
            return message

        async def guarded_send(message: Message) -> None:
            # Whatever the app makes of the refused read (a middleware may wrap the
            # exception into a 400 or a 500), the client gets the 413.
            nonlocal started
            if exceeded:
                if not started:
                    started = True
                    await self._refuse(send, slow)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not exceeded or started:
                raise
            await self._refuse(send, slow)
