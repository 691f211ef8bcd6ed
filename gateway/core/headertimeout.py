"""A deadline for a request's headers (slowloris), which uvicorn does not have.

uvicorn times out only an idle keep-alive connection (``timeout_keep_alive``, armed after a
response); a connection that sends nothing, or sends its request line and headers a byte at
a time, holds its socket and parser state for ever. ``HeaderTimeoutProtocol`` is uvicorn's
httptools protocol with one timer: armed when the connection opens and when a request
begins, cancelled when its headers are complete. When it fires the client gets a 408
problem+json (unless a response is in progress) and the connection is closed. The body has
its own timeout (gateway.core.bodylimit).

The deadline is ``ZUHUR_GATEWAY_HEADER_READ_TIMEOUT_SECONDS``, read from the environment
once per process, so worker processes (which import this class by name) get it too.
"""

from __future__ import annotations

import asyncio
import functools
import json

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from gateway.core.config import Settings

# What `python -m gateway` passes to uvicorn as ``http``.
PROTOCOL = "gateway.core.headertimeout:HeaderTimeoutProtocol"


@functools.cache
def header_timeout() -> float:
    """Seconds a client has to send a request's headers (configured, read once)."""
    return Settings().header_read_timeout_seconds


def timeout_response() -> bytes:
    """The 408 sent when headers are too slow: problem+json, then the connection closes."""
    problem = {
        "type": "about:blank",
        "title": "Request Timeout",
        "status": 408,
        "detail": f"request headers not received within {header_timeout():g} s",
    }
    body = json.dumps(problem).encode()
    head = (
        "HTTP/1.1 408 Request Timeout\r\ncontent-type: application/problem+json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode() + body


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, closing connections whose headers are too slow."""

    _header_timer: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(header_timeout(), self._headers_late)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is None or self.cycle.response_complete:
            self.transport.write(timeout_response())
        self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()
