"""The job queue and worker against a real redis-server (no services): a Redis restart is not
taken for a dead worker, a swept attempt's late acknowledgement cannot orphan the retried job
(the CI failure of the Redis-restart fault test), a client's cancel survives the worker's own
writes racing it, a stopping worker drains or hands back."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from saq import Job, Status
from saq.utils import now

from gateway.jobs.config import JobSettings
from gateway.jobs.records import api_status
from gateway.jobs.store import CANCELLED, FUNCTION, JobQueue, JobStore, open_queue
from gateway.jobs.worker import JobWorker
from tests.integration.stack import Stack, stack_ports


@pytest.fixture
def jobs_redis(tmp_path: Path) -> Iterator[Stack]:
    """Only the jobs redis-server (append-only file, as deployed) on a free port."""
    s = Stack(tmp_path, tmp_path, ports=stack_ports())
    s.start("jobs-redis")
    yield s
    s.close()


def queue_of(s: Stack) -> JobQueue:
    url = f"redis://127.0.0.1:{s.ports['jobs_redis']}/0"
    queue = open_queue(JobSettings(redis_url=url, queue_name="t"), retry_seconds=10.0)
    assert isinstance(queue, JobQueue)
    return queue


async def running_job(queue: JobQueue, key: str, silent_ms: int, heartbeat: int = 1) -> Job:
    """A job a worker took and then went silent for ``silent_ms`` (as a worker marks it)."""
    await queue.connect()
    await queue.enqueue(
        Job(function=FUNCTION, key=key, heartbeat=heartbeat, retries=3, retry_delay=0)
    )
    job = await queue.dequeue(timeout=5)
    assert job is not None and job.key == key
    job.attempts, job.started = 1, now() - silent_ms
    await job.update(status=Status.ACTIVE)
    stored = await queue.job(key)
    assert stored is not None
    stored.touched = now() - silent_ms  # the last heartbeat that landed
    await queue.redis.set(stored.id, queue.serialize(stored))
    return stored


def test_a_redis_restart_is_not_a_dead_worker(jobs_redis: Stack) -> None:
    """Silent for longer than its heartbeat, but Redis has just come back: not swept; once
    Redis has been up longer than the heartbeat and the job is still silent, it is."""

    async def scenario() -> None:
        queue = queue_of(jobs_redis)
        job = await running_job(queue, "restart", silent_ms=8000, heartbeat=3)
        jobs_redis.stop("jobs-redis", signal.SIGKILL)
        jobs_redis.start("jobs-redis")  # the append-only file brings the job back
        assert await queue.sweep(lock=1) == []  # (its first command waits for Redis)
        assert (await queue.job(job.key)).status == Status.ACTIVE  # type: ignore[union-attr]
        deadline = time.monotonic() + 10
        while not (swept := await queue.sweep(lock=1)):  # 3 s (its heartbeat) after Redis is up
            assert time.monotonic() < deadline, "a silent job was never swept"
            await asyncio.sleep(0.2)
        assert swept == [job.id]
        retried = await queue.job(job.key)
        assert retried is not None and retried.status == Status.QUEUED
        await queue.disconnect()

    asyncio.run(scenario())


def test_a_late_abort_acknowledgement_keeps_the_retry(jobs_redis: Stack) -> None:
    """The sweep aborts and re-queues a silent attempt; the old attempt's "aborted" written
    after that must leave the retried job queued, not in no list at all."""

    async def scenario() -> None:
        queue = queue_of(jobs_redis)
        old = await running_job(queue, "late", silent_ms=0)
        swept = await queue.job(old.key)
        assert swept is not None
        await queue.abort(swept, error=queue.swept_error_message)
        await queue.retry(swept, error=queue.swept_error_message)  # as the sweep does
        await queue.finish(old, Status.ABORTED, error="swept")  # the old attempt, late
        stored = await queue.job(old.key)
        assert stored is not None and stored.status == Status.QUEUED
        assert await queue.count("incomplete") == 1
        again = await queue.dequeue(timeout=5)  # retry_delay 0: straight back in the queue
        assert again is not None and again.key == old.key
        await queue.disconnect()

    asyncio.run(scenario())


def test_a_cancel_survives_the_workers_racing_writes(jobs_redis: Stack) -> None:
    """A DELETE landing while the worker holds a stale copy of the record: neither its progress
    write nor its ACTIVE mark (a job dequeued just before the cancel) may erase the abort. The
    lost reason once left a cancelled job "queued" for ever, in no queue (a CI failure)."""

    async def scenario() -> None:
        url = f"redis://127.0.0.1:{jobs_redis.ports['jobs_redis']}/0"
        store = JobStore(JobSettings(redis_url=url, queue_name="t"))
        queue = queue_of(jobs_redis)
        mine = await running_job(queue, "progress", silent_ms=0)  # the worker's copy
        seen = await store.get(mine.key)  # the gateway's copy, read for the DELETE
        assert seen is not None
        await store.cancel(seen)
        mine.meta["progress"] = {"done": 1, "total": 4}
        await mine.update(meta=mine.meta, progress=0.25)  # the worker's write, racing it
        stored = await queue.job(mine.key)
        assert stored is not None and api_status(stored) == "cancelled", stored
        assert stored.meta["progress"] == {"done": 1, "total": 4}  # the write itself landed

        await queue.enqueue(Job(function=FUNCTION, key="taken", retries=3, retry_delay=0))
        taken = await queue.dequeue(timeout=5)  # BLMOVE: taken, not yet marked ACTIVE
        assert taken is not None
        seen = await store.get("taken")
        assert seen is not None and seen.status == Status.QUEUED
        await store.cancel(seen)  # still "queued" for the gateway: finished ABORTED at once
        taken.attempts, taken.started = 1, now()
        await taken.update(status=Status.ACTIVE)  # the worker's mark, a moment late
        stored = await queue.job("taken")
        assert stored is not None and stored.status == Status.ABORTED
        assert stored.error == CANCELLED and api_status(stored) == "cancelled"
        assert await queue.count("incomplete") == 0
        await queue.disconnect()
        await store.queue.disconnect()
        await store.probe.aclose()

    asyncio.run(scenario())


def test_a_stopping_worker_finishes_or_hands_back(jobs_redis: Stack) -> None:
    """Stopped (as on SIGTERM) with two jobs running and a 2 s drain: the one that ends
    within the drain completes; the other goes back to the queue with its attempt uncounted."""

    async def job(ctx: dict[str, Any], *, seconds: float) -> float:
        await asyncio.sleep(seconds)
        return seconds

    async def scenario() -> None:
        queue = queue_of(jobs_redis)
        await queue.connect()
        worker = JobWorker(queue, functions=[(FUNCTION, job)], concurrency=2)
        worker.drain_seconds = 2.0
        for key, seconds in (("short", 1.0), ("long", 60.0)):
            await queue.enqueue(
                Job(function=FUNCTION, key=key, kwargs={"seconds": seconds}, retries=3)
            )
        running = asyncio.create_task(worker.start())
        deadline = time.monotonic() + 10
        while len(worker.job_task_contexts) < 2:
            assert time.monotonic() < deadline, "the worker did not take both jobs"
            await asyncio.sleep(0.05)
        worker.event.set()  # what its SIGTERM handler does
        await asyncio.wait_for(running, 20)
        short, long = await queue.jobs(["short", "long"])
        assert short is not None and (short.status, short.attempts) == (Status.COMPLETE, 1)
        assert long is not None and (long.status, long.attempts) == (Status.QUEUED, 0)
        assert worker.handed_back == {"long"}
        await queue.disconnect()

    asyncio.run(scenario())


def test_disconnect_from_a_dead_redis_is_bounded(jobs_redis: Stack) -> None:
    """A worker stopped while its Redis is down exits promptly: the queue's disconnect gives
    up after ``close_seconds`` instead of retrying for the queue's whole retry budget (10 s
    here: saq's unsubscribe retried that long, and a SIGTERMed worker outlived its stop grace).
    """

    async def scenario() -> None:
        queue = queue_of(jobs_redis)
        await queue.connect()
        jobs_redis.stop("jobs-redis")
        await asyncio.sleep(1.0)  # Redis has been down a while (not a race: longer is the same)
        started = time.monotonic()
        await queue.disconnect()
        elapsed = time.monotonic() - started
        assert elapsed < 5.0, f"disconnect took {elapsed:.1f} s"  # half the retry budget

    asyncio.run(scenario())
