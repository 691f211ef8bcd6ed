"""The result cache in Redis: deterministic keys, TTLs, single flight, and never a failure.

Key ``zuhur:v{schema}:{engine_version}:{sha256(method, request bytes)}``; values are the
final response body (JSON bytes), stored behind an HMAC tag bound to the key
(gateway.core.integrity) and returned as they are: a hit decodes nothing. A value that fails
the check is a miss (counted as a ``verify`` error), recomputed and overwritten.
Any Redis error is logged, counted and treated as a miss, and Redis is then skipped for a
short back-off so a dead Redis costs no latency per request.

Hot values are also kept in process for ``near_cache_seconds`` (bounded by
``near_cache_max_bytes``): a popular result is then answered without a Redis round trip,
which costs more than the rest of a hit. The value under a key never changes (the key holds
the engine version and the request's bytes; only seeded, deterministic results are stored),
so the near copy can only outlive a deletion or expiry in Redis, by at most those seconds.
Only values that passed the signature check enter it.

Connections come from a bounded, blocking pool (``redis_max_connections``): past that many
concurrent commands a request waits up to ``redis_pool_timeout_seconds`` for a connection
instead of failing with "too many connections" (which would turn hits into computations).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import time
from typing import Literal

import redis.asyncio as aioredis
from cachetools import TTLCache
from redis.exceptions import RedisError

from gateway.core.config import DEV_CACHE_HMAC_KEY, Settings
from gateway.core.integrity import sign, verify
from gateway.core.metrics import CACHE_ERRORS

log = logging.getLogger(__name__)
CacheStatus = Literal["HIT", "MISS", "BYPASS"]

# Compare-and-delete: release a single-flight lock only if we still own it.
_RELEASE = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
)


def cache_key(schema: int, engine_version: str, method: str, request_bytes: bytes) -> str:
    """The Redis key of one request: method and deterministic request bytes, hashed."""
    digest = hashlib.sha256(method.encode() + b"\0" + request_bytes).hexdigest()
    return f"zuhur:v{schema}:{engine_version}:{digest}"


class ResultCache:
    """Redis-backed cache that degrades to 'unavailable' instead of raising."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.secret = settings.cache_hmac_key.encode()
        if settings.cache_hmac_key == DEV_CACHE_HMAC_KEY:
            log.warning("cached values are signed with the development key; "
                        "set ZUHUR_GATEWAY_CACHE_HMAC_KEY")  # fmt: skip
        pool = aioredis.BlockingConnectionPool.from_url(
            settings.redis_url,
            max_connections=settings.redis_max_connections,
            timeout=settings.redis_pool_timeout_seconds,
            password=settings.redis_password,
            socket_timeout=settings.redis_timeout_seconds,
            socket_connect_timeout=settings.redis_timeout_seconds,
            health_check_interval=30,
            retry_on_timeout=False,
        )
        self.client = aioredis.Redis.from_pool(pool)  # owns the pool: close() closes it
        self.near: TTLCache[str, bytes] | None = None
        if settings.near_cache_seconds > 0 and settings.near_cache_max_bytes > 0:
            self.near = TTLCache(
                settings.near_cache_max_bytes, settings.near_cache_seconds, getsizeof=len
            )
        self._reads: dict[str, asyncio.Future[bytes | None]] = {}  # GETs in flight, by key
        self._down_until = 0.0

    @property
    def available(self) -> bool:
        """False while backing off after a Redis error."""
        return time.monotonic() >= self._down_until

    def _failed(self, operation: str, exc: Exception) -> None:
        CACHE_ERRORS.labels(operation).inc()
        log.warning("redis %s failed (%s); treating as a miss", operation, exc)
        self._down_until = time.monotonic() + self.settings.redis_backoff_seconds

    async def ping(self) -> bool:
        """Whether Redis answers now (used by /readyz; also ends a back-off early)."""
        try:
            ok = bool(await self.client.ping())
        except (RedisError, OSError) as exc:
            self._failed("ping", exc)
            return False
        self._down_until = 0.0
        return ok

    async def get(self, key: str) -> bytes | None:
        """The stored response body of ``key``, or None (absent, or Redis unusable).

        Concurrent reads of one key in this process share one Redis GET: when a hot value
        leaves the near cache, its next burst of requests costs one round trip, not one each.
        """
        if self.near is not None and (near := self.near.get(key)) is not None:
            return near
        if not self.available:
            return None
        read = self._reads.get(key)
        if read is None:
            read = self._reads[key] = asyncio.ensure_future(self._read(key))
            read.add_done_callback(lambda done: self._reads.pop(key, None))
        return await asyncio.shield(read)  # a waiter that leaves does not cancel the others'

    async def _read(self, key: str) -> bytes | None:
        """One Redis GET of ``key`` and the signature check of what it returns."""
        try:
            raw = await self.client.get(key)
        except (RedisError, OSError) as exc:
            self._failed("get", exc)
            return None
        if raw is None:
            return None
        blob = raw.encode() if isinstance(raw, str) else raw
        data = verify(self.secret, blob, key.encode())
        if data is None:  # forged, corrupted or signed with another key: never served
            CACHE_ERRORS.labels("verify").inc()
            log.warning("cached value under %s failed its integrity check; recomputing", key)
        else:
            self._keep(key, data)
        return data

    def _keep(self, key: str, value: bytes) -> None:
        """Keep a verified value near (a value larger than the whole near cache is not)."""
        if self.near is not None and len(value) <= self.near.maxsize:
            self.near[key] = value

    async def set(self, key: str, value: bytes) -> bool:
        """Store the response body ``value`` under ``key`` with the TTL; False if not stored."""
        if not self.available:
            return False
        try:
            blob = sign(self.secret, value, key.encode())
            await self.client.set(key, blob, ex=self.settings.cache_ttl_seconds)
        except (RedisError, OSError) as exc:
            self._failed("set", exc)
            return False
        self._keep(key, value)
        return True

    async def acquire(self, key: str, ttl_seconds: float) -> str | None:
        """Take the single-flight lock of ``key``; returns its token, or None if held/failed."""
        if not self.available:
            return None
        token = secrets.token_hex(16)
        try:
            got = await self.client.set(f"{key}:lock", token, nx=True, px=int(ttl_seconds * 1000))
        except (RedisError, OSError) as exc:
            self._failed("lock", exc)
            return None
        return token if got else None

    async def release(self, key: str, token: str) -> None:
        try:
            await self.client.eval(_RELEASE, 1, f"{key}:lock", token)
        except (RedisError, OSError) as exc:
            self._failed("unlock", exc)

    async def wait_for(self, key: str, timeout: float) -> bytes | None:
        """Poll for a value another request is computing, up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        delay = 0.01
        while time.monotonic() < deadline and self.available:
            value = await self.get(key)
            if value is not None:
                return value
            try:
                if not await self.client.exists(f"{key}:lock"):
                    return None  # the other request finished (or failed) without storing
            except (RedisError, OSError) as exc:
                self._failed("exists", exc)
                return None
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.25)
        return None

    async def close(self) -> None:
        await self.client.aclose()
