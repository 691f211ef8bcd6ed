"""The jobs Redis seen through saq: the queue, submission (joining a running twin), the
recent-jobs index, cancellation. Used by the gateway; the worker uses only ``open_queue``."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import math
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from google.protobuf.message import Message
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from saq import Job, Status
from saq.job import TERMINAL_STATUSES
from saq.queue.redis import RedisQueue
from saq.utils import now, seconds

from gateway.jobs.config import JobSettings
from gateway.jobs.tracing import submission_meta

FUNCTION = "run_job"  # the worker's job function
CANCELLED = "cancelled by the client"  # the abort reason of DELETE /v1/jobs/{id}
_BACKOFF_CAP = 0.5
_INDEX_SIZE = 10_000  # newest jobs kept in the listing index

log = logging.getLogger(__name__)


def open_queue(settings: JobSettings, retry_seconds: float) -> RedisQueue:
    """The saq queue on the jobs Redis; operations retry for ``retry_seconds`` while Redis
    restarts (the worker waits that out rather than failing a job)."""
    retries = max(1, math.ceil(retry_seconds / _BACKOFF_CAP))
    client = aioredis.Redis.from_url(
        settings.redis_url,
        password=settings.redis_password,
        retry=Retry(ExponentialBackoff(cap=_BACKOFF_CAP, base=0.05), retries),
        retry_on_error=[RedisConnectionError, RedisTimeoutError, ConnectionError],
        socket_connect_timeout=2.0,
        health_check_interval=10,
    )
    return JobQueue(client, name=settings.queue_name)


class JobQueue(RedisQueue):
    """saq's Redis queue, made safe for a live worker whose heartbeat could not land.

    - saq's sweep retries every job in the active list whose record is not ACTIVE; a worker
      moves a job there (BLMOVE) a moment before it marks it ACTIVE, so a sweep landing in
      that moment would abort a healthy attempt. Here such a job is swept only if it is
      still un-started a moment later (its worker died between the two steps).
    - A heartbeat is counted from no earlier than the jobs Redis's own start: while Redis
      was down (restarted from its append-only file) no worker could beat, so the lapse
      says nothing about the worker (``lapsed``).
    - Writes of a worker that was swept anyway cannot undo the sweep's retry: finishing an
      aborted attempt, or a progress write, checks the stored state in the same transaction
      (``_finish``, ``_update``); saq's read-then-write let a late "aborted" remove the
      retried job from every list, leaving a record no worker would ever pick up.
    - ``disconnect`` is bounded (``close_seconds``): saq's unsubscribes first, and that
      retried like any command, so a worker SIGTERMed while its Redis was down hung for the
      whole retry budget (30 s) and was killed by its container's stop grace instead.
    """

    settle_seconds = 0.5
    close_seconds = 1.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.waiting: set[asyncio.Task[Any]] = set()  # tasks blocked in dequeue

    async def disconnect(self) -> None:
        """saq's disconnect, given ``close_seconds``; then the connections are dropped anyway
        (a closed connection's subscriptions end with it, so nothing is lost)."""
        try:
            async with asyncio.timeout(self.close_seconds):
                await super().disconnect()
        except (TimeoutError, RedisError, OSError) as exc:
            log.info("jobs Redis did not answer the disconnect (%r): connections dropped", exc)
            await self.redis.connection_pool.disconnect()

    async def dequeue(self, timeout: float = 0.0, poll_interval: float = 0.0) -> Job | None:
        """saq's dequeue; the waiting task is noted, so a stopping worker can withdraw it."""
        task = asyncio.current_task()
        if task is None:
            return await super().dequeue(timeout, poll_interval)
        self.waiting.add(task)
        try:
            return await super().dequeue(timeout, poll_interval)
        finally:
            self.waiting.discard(task)

    async def sweep(self, lock: int = 60, abort: float = 1.0) -> list[str]:
        """Retry (or fail, attempts spent) jobs whose worker is gone; ``abort`` is how long a
        live but silent worker gets to stop its attempt first."""
        if not await self.redis.set(self._sweep, 1, nx=True, ex=lock):
            return []  # another worker sweeps now
        since = await self.up_since()
        lost, unstarted = [], []
        for raw_id in await self.redis.lrange(self._active, 0, -1):
            job_id = _text(raw_id)
            job = self.deserialize(await self.redis.get(job_id))
            if job is None:  # its record is gone: drop the dangling entry
                await self.redis.lrem(self._active, 0, job_id)
                await self.redis.zrem(self._incomplete, job_id)
            elif job.status != Status.ACTIVE:
                unstarted.append(job_id)
            elif lapsed(job, since):
                lost.append(job)
        if unstarted:  # look again once a live worker has had time to mark them ACTIVE
            await asyncio.sleep(self.settle_seconds)
            for job_id in unstarted:
                job = self.deserialize(await self.redis.get(job_id))
                still = await self.redis.lpos(self._active, job_id)
                if job is not None and job.status != Status.ACTIVE and still is not None:
                    lost.append(job)
        for job in lost:
            log.warning("job %s: its worker is gone (last heartbeat %s); retrying it",
                        job.key, _ago(job.touched))  # fmt: skip
            await self.abort(job, error=self.swept_error_message)
            with contextlib.suppress(TimeoutError):
                await job.refresh(abort)
            if job.retryable:
                await self.retry(job, error=self.swept_error_message)
            else:
                await self.finish(job, Status.ABORTED, error=self.swept_error_message)
        return [job.id for job in lost]

    async def up_since(self) -> int:
        """When the jobs Redis started (ms, saq's clock): no heartbeat could land before."""
        uptime = int((await self.redis.info("server"))["uptime_in_seconds"])
        return now() - uptime * 1000

    async def _update(self, job: Job, status: Status | None = None, **kwargs: Any) -> None:
        """Store ``job``, read and written in one transaction with the stored record: without
        ``status`` (a heartbeat or progress write) it keeps the stored status, and an abort
        stays an abort: a worker's stale copy writing progress, or marking the job ACTIVE just
        as a client's DELETE landed, must not erase the abort's status or reason (its lost
        reason once left a cancelled job "queued" for ever, in no queue)."""

        async def write(pipe: Any) -> None:
            stored = self.deserialize(await pipe.get(job.id))
            if stored is not None:
                aborted = stored.status in (Status.ABORTING, Status.ABORTED)
                if aborted and status in (None, Status.ACTIVE):
                    job.status, job.error = stored.status, stored.error
                elif status is None:
                    job.status = stored.status
            pipe.multi()
            pipe.set(job.id, self.serialize(job))

        await self.redis.transaction(write, job.id)
        await self.notify(job)

    async def _finish(
        self, job: Job, status: Status, *, result: Any = None, error: str | None = None
    ) -> None:
        """saq's finish; an aborted attempt is finished only while its record still says
        aborting (or aborted): once the sweep re-queued it, a late acknowledgement is moot."""
        if status != Status.ABORTED:
            await super()._finish(job, status, result=result, error=error)
            return

        async def write(pipe: Any) -> bool:
            stored = self.deserialize(await pipe.get(job.id))
            if stored is not None and stored.status not in (Status.ABORTING, Status.ABORTED):
                return False
            pipe.multi()
            pipe.lrem(self._active, 1, job.id).zrem(self._incomplete, job.id)
            if job.ttl > 0:
                pipe.setex(job.id, job.ttl, self.serialize(job))
            elif job.ttl == 0:
                pipe.set(job.id, self.serialize(job))
            else:
                pipe.delete(job.id)
            return True

        if await self.redis.transaction(write, job.id, value_from_callable=True):
            await self.notify(job)
        else:
            log.info("job %s: abort of an earlier attempt acknowledged after its retry", job.key)


def lapsed(job: Job, up_since: int) -> bool:
    """saq's ``Job.stuck`` (past its timeout, or silent for ``heartbeat`` seconds), with the
    silence counted from no earlier than ``up_since``, when the jobs Redis started."""
    if job.status not in (Status.ACTIVE, Status.ABORTING):
        return False
    current = now()
    if job.timeout and seconds(current - job.started) > job.timeout:
        return True
    return bool(job.heartbeat) and seconds(current - max(job.touched, up_since)) > job.heartbeat


def _ago(ms: int) -> str:
    return f"{seconds(now() - ms):.1f} s ago" if ms else "never"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def job_key(method: str, message: Message) -> str:
    """A job's id: the hash of its method and seeded request, so an identical submission
    finds the job already running (and results are a pure function of the id)."""
    digest = hashlib.sha256(method.encode() + b"\0" + message.SerializeToString(deterministic=True))
    return digest.hexdigest()[:32]


@dataclass
class JobStore:
    """What the gateway does with jobs; holds the queue for the app's lifetime."""

    settings: JobSettings

    def __post_init__(self) -> None:
        # The gateway answers HTTP: a short retry budget, then 503.
        self.queue = open_queue(self.settings, retry_seconds=2.0)
        self.index = f"saq:{self.settings.queue_name}:recent"
        # /readyz asks once, briefly (a probe times out long before the queue's retries).
        self.probe = aioredis.Redis.from_url(
            self.settings.redis_url,
            password=self.settings.redis_password,
            retry=Retry(NoBackoff(), 0),
            socket_timeout=1.0,
            socket_connect_timeout=1.0,
        )

    async def submit(
        self, method: str, message: Message, request: dict[str, Any], lookup: bool
    ) -> tuple[Job, bool]:
        """Enqueue a job, or join the identical one still queued or running.

        Returns the job and whether it was joined rather than created.
        """
        key = job_key(method, message)
        existing = await self.queue.job(key)
        if existing is not None and existing.status not in TERMINAL_STATUSES:
            return existing, True
        created = now()
        s = self.settings
        job = Job(
            function=FUNCTION,
            key=key,
            kwargs={"method": method, "request": request, "lookup": lookup},
            timeout=math.ceil(s.deadline_seconds) + 60,
            heartbeat=s.heartbeat_seconds,
            retries=s.attempts,
            ttl=s.ttl_seconds,
            retry_delay=s.retry_delay_seconds,
            retry_backoff=s.retry_max_delay_seconds,
            meta={
                "method": method,
                "created_at": created,
                "progress": {"done": 0, "total": 0},
                **submission_meta(),  # the worker continues this request's trace
            },
        )
        await self.queue.redis.delete(job.abort_id)  # a finished twin's cancel no longer applies
        if await self.queue.enqueue(job) is None:  # lost a race with an identical submission
            twin = await self.queue.job(key)
            if twin is not None:
                return twin, True
        async with self.queue.redis.pipeline(transaction=True) as pipe:
            pipe.zadd(self.index, {key: created})
            pipe.zremrangebyrank(self.index, 0, -_INDEX_SIZE - 1)
            await pipe.execute()
        return job, False

    async def get(self, key: str) -> Job | None:
        return await self.queue.job(key)

    async def recent(self, offset: int, limit: int) -> tuple[list[Job], int]:
        """Newest jobs first (those whose records expired are dropped), and how many exist."""
        found = await self.queue.redis.zrevrange(self.index, offset, offset + limit - 1)
        keys = [k.decode() if isinstance(k, bytes) else str(k) for k in found]
        jobs = await self.queue.jobs(keys)
        gone = [k for k, j in zip(keys, jobs, strict=True) if j is None]
        if gone:
            await self.queue.redis.zrem(self.index, *gone)
        total = int(await self.queue.redis.zcard(self.index))
        return [j for j in jobs if j is not None], total

    async def cancel(self, job: Job) -> None:
        """Abort a queued or running job; the worker stops a running one at its next abort poll."""
        before = job.status
        if before in TERMINAL_STATUSES or before == Status.ABORTING:
            return
        await self.queue.abort(job, error=CANCELLED, ttl=60)
        if before != Status.ACTIVE:  # e.g. waiting out a retry back-off: no worker will finish it
            stored = await self.queue.job(job.key)
            if stored is not None and stored.status == Status.ABORTING:
                await self.queue.finish(stored, Status.ABORTED, error=CANCELLED)

    async def unavailable(self) -> str | None:
        """Why the jobs Redis cannot take jobs now, or None when it answers (for /readyz)."""
        try:
            await self.probe.ping()
        except (RedisError, OSError) as exc:
            return f"jobs store unavailable: {exc}"
        return None

    async def close(self) -> None:
        """Drop the connections; a jobs Redis already gone is no error at shutdown."""
        with contextlib.suppress(RedisConnectionError, RedisTimeoutError, OSError):
            await self.queue.disconnect()
        with contextlib.suppress(RedisConnectionError, RedisTimeoutError, OSError):
            await self.probe.aclose()
