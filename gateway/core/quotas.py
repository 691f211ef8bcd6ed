"""Per-client fairness on ``/v1``: a request rate and a concurrency quota, kept in Redis.

The client is the API key (or the address when keys are off) that gateway.core.auth put in
the scope. Both counters live in the cache Redis, so every gateway replica enforces the same
budget and one client cannot take every simulation slot through several replicas:

- rate: ``ZUHUR_GATEWAY_RATE_LIMIT`` in the ``limits`` notation ("600/minute"), a moving
  window (the ``limits`` library); over it, 429 with Retry-After = seconds until the oldest
  request in the window expires.
- concurrency: ``ZUHUR_GATEWAY_MAX_CONCURRENT_PER_CLIENT`` requests in progress at once (a
  Redis counter, incremented and checked atomically, with an expiry so a crashed replica's
  slots come back); over it, 429 with Retry-After 1.

Both are off when unset (``make up``). When Redis fails the quotas let requests through
(logged and counted): fairness degrades, service does not.
"""

from __future__ import annotations

import json
import logging
import math
import time
from typing import Any

import redis.asyncio as aioredis
from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from prometheus_client import Counter
from redis.exceptions import RedisError
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.core.auth import CLIENT_SCOPE_KEY, is_protected

log = logging.getLogger(__name__)

QUOTA_REFUSALS = Counter(
    "zuhur_gateway_quota_refusals_total", "Requests refused by a per-client quota", ["quota"]
)
QUOTA_ERRORS = Counter(
    "zuhur_gateway_quota_errors_total", "Quota checks skipped because Redis failed"
)

# Take a slot unless the client already holds ``limit``; the key expires after ``ttl`` ms.
_ACQUIRE = """
local n = redis.call('incr', KEYS[1])
redis.call('pexpire', KEYS[1], ARGV[2])
if n > tonumber(ARGV[1]) then redis.call('decr', KEYS[1]) return 0 end
return n
"""
_RELEASE = "if redis.call('decr', KEYS[1]) <= 0 then redis.call('del', KEYS[1]) end return 0"


def too_many_body(detail: str, quota: str) -> bytes:
    """The 429 problem+json document."""
    problem = {
        "type": "about:blank",
        "title": "Too many requests",
        "status": 429,
        "detail": detail,
        "quota": quota,
    }
    return json.dumps(problem).encode()


class Quotas:
    """ASGI middleware enforcing the rate and concurrency quotas of each client on ``/v1``."""

    def __init__(
        self,
        app: ASGIApp,
        redis_url: str,
        rate: str,
        concurrency: int,
        slot_ttl_seconds: float,
        redis_options: dict[str, Any],
    ) -> None:
        self.app = app
        self.rate: RateLimitItem | None = parse(rate) if rate else None
        self.concurrency = concurrency
        self.slot_ttl_ms = int(slot_ttl_seconds * 1000)
        self.limiter: MovingWindowRateLimiter | None = None
        self.redis: aioredis.Redis | None = None
        if self.rate is not None:
            uri = "async+" + redis_url
            storage = RedisStorage(uri, implementation="redispy", wrap_exceptions=True,
                                   key_prefix="zuhur:quota", **redis_options)  # fmt: skip
            self.limiter = MovingWindowRateLimiter(storage)
        if concurrency > 0:
            self.redis = aioredis.Redis.from_url(redis_url, **redis_options)

    async def _rate_retry_after(self, client: str) -> int | None:
        """None if the request is within the client's rate, else seconds to wait."""
        if self.limiter is None or self.rate is None:
            return None
        try:
            if await self.limiter.hit(self.rate, client):
                return None
            stats = await self.limiter.get_window_stats(self.rate, client)
        except (StorageError, RedisError, OSError) as exc:
            QUOTA_ERRORS.inc()
            log.warning("rate quota skipped: redis failed (%s)", exc)
            return None
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def _take_slot(self, key: str) -> bool | None:
        """True: slot taken; False: quota full; None: not checked (off, or Redis failed)."""
        if self.redis is None:
            return None
        try:
            got = await self.redis.eval(_ACQUIRE, 1, key, self.concurrency, self.slot_ttl_ms)
        except (RedisError, OSError) as exc:
            QUOTA_ERRORS.inc()
            log.warning("concurrency quota skipped: redis failed (%s)", exc)
            return None
        return bool(got)

    async def _free_slot(self, key: str) -> None:
        assert self.redis is not None
        try:
            await self.redis.eval(_RELEASE, 1, key)
        except (RedisError, OSError) as exc:  # the key's expiry frees it
            QUOTA_ERRORS.inc()
            log.warning("concurrency slot not released (%s); it expires", exc)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or not is_protected(path):
            await self.app(scope, receive, send)
            return
        client = str(scope.get(CLIENT_SCOPE_KEY, "addr:unknown"))
        wait = await self._rate_retry_after(client)
        if wait is not None:
            detail = f"more than {self.rate} from this client; retry in {wait} s"
            await self._refuse(send, detail, "rate", wait)
            return
        key = f"zuhur:quota:inflight:{client}"
        slot = await self._take_slot(key)
        if slot is False:
            detail = f"{self.concurrency} requests of this client are already in progress"
            await self._refuse(send, detail, "concurrency", 1)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            if slot:
                await self._free_slot(key)

    async def _refuse(self, send: Send, detail: str, quota: str, retry_after: int) -> None:
        QUOTA_REFUSALS.labels(quota).inc()
        body = too_many_body(detail, quota)
        headers = [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(retry_after).encode()),
        ]
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": body})
