"""Optional API keys: when configured, every ``/v1`` route needs ``Authorization: Bearer <key>``.

Keys come from ``ZUHUR_GATEWAY_API_KEYS`` (comma-separated) and/or the file named by
``ZUHUR_GATEWAY_API_KEYS_FILE`` (one key per line or comma-separated: a mounted k8s Secret).
No keys configured means no authentication (``make up``). A pure ASGI middleware: a missing or
wrong key is a 401 problem+json before any routing, body read or upstream call; the
caller's identity (a digest of its key, or its address when keys are off) is left in the
scope for the per-client quotas (gateway.core.quotas).

Health (``/healthz``, ``/readyz``), ``/metrics`` and the API docs stay open: the docs are the
public contract (the same for every caller, no data) and Swagger UI must load them before
it can send a key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

PROBLEM = b"application/problem+json"
# Paths that compute: the API, and the page's plot endpoints (which call the same services).
PROTECTED_PREFIXES = ("/v1", "/ui/plots")


def is_protected(path: str) -> bool:
    """Whether ``path`` needs a key (when keys are configured) and counts against quotas."""
    return any(path == p or path.startswith(p + "/") for p in PROTECTED_PREFIXES)


# Scope key holding who is calling: "key:<digest>" or "addr:<host>".
CLIENT_SCOPE_KEY = "zuhur.client"


def load_keys(inline: str, file: str | None) -> tuple[str, ...]:
    """The configured keys (inline and from ``file``), blanks dropped, order kept."""
    text = inline
    if file:
        text += "," + Path(file).read_text()
    keys = [k.strip() for k in text.replace("\n", ",").split(",")]
    return tuple(dict.fromkeys(k for k in keys if k))


def key_id(key: str) -> str:
    """A short, non-reversible name of a key for quota buckets and logs."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return ""


def bearer_token(scope: Scope) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if any."""
    scheme, _, token = _header(scope, b"authorization").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def unauthorized_body(detail: str) -> bytes:
    """The 401 problem+json document."""
    problem = {"type": "about:blank", "title": "Unauthorized", "status": 401, "detail": detail}
    return json.dumps(problem).encode()


class ApiKeys:
    """ASGI middleware: identify the caller; with keys configured, refuse ``/v1`` without one."""

    def __init__(self, app: ASGIApp, keys: tuple[str, ...]) -> None:
        self.app = app
        self.keys = tuple(k.encode() for k in keys)

    def _match(self, token: str) -> str | None:
        candidate = token.encode()
        found = None
        for key in self.keys:  # compare against every key: timing says nothing of which
            if hmac.compare_digest(candidate, key):
                found = key
        return key_id(found.decode()) if found is not None else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client") or ("unknown", 0)
        scope[CLIENT_SCOPE_KEY] = f"addr:{client[0]}"
        path = str(scope.get("path", ""))
        if self.keys and is_protected(path):
            token = bearer_token(scope)
            identity = self._match(token) if token else None
            if identity is None:
                detail = (
                    "send Authorization: Bearer <API key>"
                    if token is None
                    else "the API key is not valid"
                )
                await self._refuse(send, detail)
                return
            scope[CLIENT_SCOPE_KEY] = f"key:{identity}"
        await self.app(scope, receive, send)

    async def _refuse(self, send: Send, detail: str) -> None:
        body = unauthorized_body(detail)
        headers = [
            (b"content-type", PROBLEM),
            (b"content-length", str(len(body)).encode()),
            (b"www-authenticate", b'Bearer realm="zuhur"'),
        ]
        await send({"type": "http.response.start", "status": 401, "headers": headers})
        await send({"type": "http.response.body", "body": body})
