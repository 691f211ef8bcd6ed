"""Per-client fairness on ``/v1``: a request rate and a concurrency quota, kept in Redis.

The client is the API key (or the address when keys are off) that gateway.core.auth put in
the scope. Both counters live in the cache Redis, so every gateway replica enforces the same
budget and one client cannot take every simulation slot through several replicas:

- rate: ``ZUHUR_GATEWAY_RATE_LIMIT`` in the ``limits`` notation ("600/minute"), a moving
  window (the ``limits`` library); over it, 429 with Retry-After = seconds until the oldest
  request in the window expires.
- concurrency: ``ZUHUR_GATEWAY_MAX_CONCURRENT_PER_CLIENT`` requests in progress at once: a
  Redis sorted set of the client's requests by start time (Redis' clock, so replicas
  agree), checked and added to atomically; entries older than the slot lifetime are dropped,
  so a crashed replica's slots come back. Each finished request updates a moving average of
  the client's request durations (EWMA, in Redis); over the quota, 429 with Retry-After =
  that average less how long the client's oldest request has run (the time until a slot
  should free up), at least 1 s and at most the slot lifetime; 1 s until there is an average.

Both are off when unset (``make up``). When Redis fails the quotas let requests through
(logged and counted): fairness degrades, service does not.
"""

from __future__ import annotations

import json
import logging
import math
import time
import uuid
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

# Redis' clock in ms: one clock for every replica.
_NOW = "local t = redis.call('time') local now = t[1] * 1000 + math.floor(t[2] / 1000)"
# KEYS: in-flight set, mean duration; ARGV: limit, slot lifetime ms, token. Take a slot
# unless the client holds ``limit`` live ones: {1}; else {0, ms the oldest has run, mean ms
# or -1}.
_ACQUIRE = (
    _NOW
    + """
redis.call('zremrangebyscore', KEYS[1], '-inf', now - tonumber(ARGV[2]))
if redis.call('zcard', KEYS[1]) >= tonumber(ARGV[1]) then
  local oldest = redis.call('zrange', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, now - tonumber(oldest[2]), tonumber(redis.call('get', KEYS[2]) or '-1')}
end
redis.call('zadd', KEYS[1], now, ARGV[3])
redis.call('pexpire', KEYS[1], ARGV[2])
return {1}
"""
)
# KEYS: in-flight set, mean duration; ARGV: token, EWMA weight, lifetime ms of the mean.
# Free the slot and fold its duration into the client's moving average.
_RELEASE = (
    _NOW
    + """
local start = redis.call('zscore', KEYS[1], ARGV[1])
if not start then return 0 end
redis.call('zrem', KEYS[1], ARGV[1])
local took = now - tonumber(start)
local mean = tonumber(redis.call('get', KEYS[2]) or took)
mean = mean + tonumber(ARGV[2]) * (took - mean)
redis.call('set', KEYS[2], tostring(mean), 'PX', ARGV[3])
return 1
"""
)
# Weight of the newest duration in the moving average, and how long an average is kept.
EWMA_WEIGHT = 0.3
MEAN_TTL_MS = 24 * 3600 * 1000


def concurrency_retry_after(elapsed_ms: float, mean_ms: float, ceiling: float) -> int:
    """Seconds until one of a full client's slots should free: the client's mean request
    duration less how long its oldest request has run, in [1, ``ceiling``]; 1 with no mean
    yet (``mean_ms`` < 0) or when the oldest is overdue."""
    if mean_ms < 0:
        return 1
    remaining = math.ceil((mean_ms - elapsed_ms) / 1000)
    return int(min(math.ceil(ceiling), max(1, remaining)))


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


def _slot_keys(client: str) -> tuple[str, str]:
    """Redis keys of a client's in-flight requests and of its mean request duration."""
    return f"zuhur:quota:slots:{client}", f"zuhur:quota:duration:{client}"


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

    async def _take_slot(self, client: str, token: str) -> int | None:
        """0: slot taken; > 0: quota full, retry after that many seconds; None: not checked
        (off, or Redis failed)."""
        if self.redis is None:
            return None
        keys = _slot_keys(client)
        try:
            got = await self.redis.eval(
                _ACQUIRE, 2, *keys, self.concurrency, self.slot_ttl_ms, token
            )
        except (RedisError, OSError) as exc:
            QUOTA_ERRORS.inc()
            log.warning("concurrency quota skipped: redis failed (%s)", exc)
            return None
        if got[0] == 1:
            return 0
        return concurrency_retry_after(got[1], got[2], self.slot_ttl_ms / 1000)

    async def _free_slot(self, client: str, token: str) -> None:
        assert self.redis is not None
        try:
            await self.redis.eval(_RELEASE, 2, *_slot_keys(client), token, EWMA_WEIGHT, MEAN_TTL_MS)
        except (RedisError, OSError) as exc:  # the entry's lifetime frees it
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
        token = uuid.uuid4().hex
        wait = await self._take_slot(client, token)
        if wait:
            detail = (f"{self.concurrency} requests of this client are already in progress; "
                      f"one should finish in about {wait} s")  # fmt: skip
            await self._refuse(send, detail, "concurrency", wait)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            if wait == 0:
                await self._free_slot(client, token)

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
