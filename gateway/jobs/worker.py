"""The job function and the saq worker around it: the synchronous routes' upstream call,
with progress, heartbeats, the result cache, retry of transient failures, and metrics."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, cast

import grpc
import orjson
from google.protobuf.message import Message
from redis.exceptions import RedisError
from saq import Job, Status, Worker

from gateway.api.cached_call import Call, Context, encode, invoke, lookup_key, store
from gateway.api.routing import ComputeMethod
from gateway.core.cache import ResultCache
from gateway.core.clients import SIMULATION, Upstreams
from gateway.core.config import Settings
from gateway.core.errors import UpstreamError, grpc_problem
from gateway.core.metrics import CACHE_LOOKUPS
from gateway.core.protojson import from_json, to_json
from gateway.jobs import methods, tracing
from gateway.jobs.config import JobSettings
from gateway.jobs.metrics import (
    JOB_DURATION,
    JOB_RETRIES,
    JOBS_ACTIVE,
    JOBS_FINISHED,
    JOBS_QUEUED,
    JOBS_RUNNING,
)
from gateway.jobs.records import api_status
from gateway.jobs.store import CANCELLED, FUNCTION, JobQueue, open_queue

log = logging.getLogger(__name__)

# Failures another attempt may not repeat: the service went away, was busy, or restarted.
RETRYABLE = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.CANCELLED,
    grpc.StatusCode.ABORTED,
}


@dataclass
class WorkerState:
    """What every job of this worker process shares: settings, channels, the result cache."""

    jobs: JobSettings
    gateway: Settings
    upstreams: Upstreams
    cache: ResultCache

    def context(self) -> Context:
        """The cached-call path's context (jobs share the routes' cache keys and bytes)."""
        return Context(self.upstreams, self.cache, self.gateway)


# A record in one of these states is no longer this attempt's to write (a Redis restored from
# its AOF may show an earlier state, QUEUED: that one is still ours, as the heartbeat says).
ENDED = frozenset({Status.ABORTING, Status.ABORTED, Status.COMPLETE, Status.FAILED})


class Progress:
    """Writes a job's progress (and heartbeat) to its record, at most every ``interval``."""

    def __init__(self, job: Job, interval: float) -> None:
        self.job = job
        self.interval = interval
        self.last = 0.0

    async def report(self, done: int, total: int, force: bool = False) -> None:
        self.job.meta["progress"] = {"done": done, "total": total}
        if force or time.monotonic() - self.last >= self.interval:
            await self.touch()

    async def touch(self) -> None:
        """Store the record now (a heartbeat); a cancel that raced this write is re-applied."""
        self.last = time.monotonic()
        progress = self.job.meta["progress"]
        fraction = progress["done"] / progress["total"] if progress["total"] else 0.0
        try:
            queue = self.job.get_queue()
            stored = await queue.job(self.job.key)
            if stored is None or stored.status in ENDED:
                return  # aborted or finished meanwhile: a late write would revive the record
            await self.job.update(meta=self.job.meta, progress=fraction)
            reason = await queue.redis.get(self.job.abort_id)  # type: ignore[attr-defined]
            if reason == CANCELLED.encode():  # (a sweep's abort of an earlier attempt is not)
                await self.job.update(status=Status.ABORTING, error=CANCELLED)
        except (RedisError, OSError) as exc:  # a missed write costs one progress step only
            log.warning("job %s: progress not stored (%s)", self.job.key, exc)


async def heartbeat(progress: Progress, every: float) -> None:
    """Touch the record while an upstream call sends nothing (unary calls, slow streams)."""
    while True:
        await asyncio.sleep(every)
        if time.monotonic() - progress.last >= every:
            await progress.touch()


def rpc_of(state: WorkerState, method: ComputeMethod) -> Any:
    stub = state.upstreams.simulation if method.service == SIMULATION else state.upstreams.fitting
    return getattr(stub, method.method)


def unary(rpc: Any) -> Any:
    """Call a unary RPC; cancelling the job cancels the call (the service stops its work)."""

    async def call(message: Message, timeout: float) -> Message:
        pending = rpc(message, timeout=timeout)
        try:
            return cast(Message, await pending)
        finally:
            pending.cancel()

    return call


def streamed(rpc: Any, field: str, progress: Progress) -> Any:
    """Drain a server stream: progress events go to the job record, ``field`` is the result."""

    async def call(message: Message, timeout: float) -> Message:
        stream = rpc(message, timeout=timeout)
        result: Message | None = None
        try:
            async for event in stream:
                if event.HasField(field):
                    result = getattr(event, field)
                elif event.HasField("progress"):
                    await progress.report(event.progress.done, event.progress.total)
        finally:
            stream.cancel()
        if result is None:
            raise RuntimeError(f"stream ended without a {field}")
        return result

    return call


async def compute(
    state: WorkerState, method: ComputeMethod, message: Message, progress: Progress, lookup: bool
) -> dict[str, Any]:
    """The synchronous route's JSON for ``message``: from the result cache when allowed and
    present, else computed upstream and stored (seeded results only, as the routes do).
    The cache status (hit, miss, bypass) is noted in the job's record for its log line."""
    rpc = rpc_of(state, method)
    if method.stream_field is not None:
        invoker = streamed(rpc, method.stream_field, progress)
    else:
        invoker = unary(rpc)
    call = Call(method.service, method.method, invoker, state.jobs.deadline_seconds)
    ctx = state.context()
    found = await lookup_key(ctx, call, message)
    if found is not None and lookup and (hit := await state.cache.get(found[0])) is not None:
        CACHE_LOOKUPS.labels("hit").inc()
        progress.job.meta["cache"] = "HIT"
        return cast(dict[str, Any], orjson.loads(hit))
    result = to_json(await invoke(call, message))
    stored = found is not None and await store(ctx, call, found, result, encode(result))
    CACHE_LOOKUPS.labels("miss" if stored else "bypass").inc()
    progress.job.meta["cache"] = "MISS" if stored else "BYPASS"
    return result


def problem_body(error: grpc.aio.AioRpcError, service: str) -> dict[str, Any]:
    """The problem+json the synchronous route would have answered for ``error``."""
    return cast(dict[str, Any], orjson.loads(bytes(grpc_problem(error, service).body)))


async def run_job(
    ctx: dict[str, Any], *, method: str, request: dict[str, Any], lookup: bool = True
) -> dict[str, Any]:
    """One attempt of a job: the named method on the stored (validated, seeded) request."""
    job: Job = ctx["job"]
    state: WorkerState = ctx["zuhur"]
    found = methods.lookup(method)
    if found is None:  # submitted by a newer gateway: not this worker's to run
        job.retries = job.attempts
        raise LookupError(f"unknown job method {method!r}")
    message = from_json(request, found.request_type)
    progress = Progress(job, state.jobs.progress_interval_seconds)
    await progress.report(0, expected_total(found, message), force=True)
    beat = asyncio.create_task(heartbeat(progress, max(0.5, state.jobs.heartbeat_seconds / 3)))
    try:
        result = await compute(state, found, message, progress, lookup)
    except UpstreamError as exc:
        job.meta["error"] = problem_body(exc.error, exc.service)
        if exc.code not in RETRYABLE:
            job.retries = job.attempts  # the same request would fail again: no retry
        raise
    finally:
        beat.cancel()
    total = progress_total(job) or 1
    job.meta["progress"] = {"done": total, "total": total}
    job.meta.pop("error", None)
    return result


def expected_total(method: ComputeMethod, message: Message) -> int:
    """Progress units before the service reports any: a stream's replicates, else one call."""
    if method.stream_field is None:
        return 1
    fields = message.DESCRIPTOR.fields_by_name
    if "replicates" in fields and message.HasField("replicates"):
        return int(message.replicates)  # type: ignore[attr-defined]
    return 0


def progress_total(job: Job) -> int:
    return int((job.meta.get("progress") or {}).get("total", 0))


async def startup(ctx: dict[str, Any]) -> None:
    gateway = Settings()
    jobs: JobSettings = ctx["job_settings"]
    ctx["zuhur"] = WorkerState(jobs, gateway, Upstreams(gateway), ResultCache(gateway))
    ctx["gauges"] = asyncio.create_task(watch_queue(ctx["worker"]))


async def shutdown(ctx: dict[str, Any]) -> None:
    ctx["gauges"].cancel()
    state: WorkerState = ctx["zuhur"]
    await state.upstreams.close()
    await state.cache.close()


async def before_process(ctx: dict[str, Any]) -> None:
    job: Job = ctx["job"]
    ctx["started"] = time.perf_counter()
    ctx["attempt"] = tracing.begin(job)
    JOBS_RUNNING.inc()
    if job.attempts > 1:
        JOB_RETRIES.labels(job.meta.get("method", "?")).inc()


async def after_process(ctx: dict[str, Any]) -> None:
    job: Job = ctx["job"]
    JOBS_RUNNING.dec()
    name = job.meta.get("method", "?")
    status = api_status(job)
    outcome = "retried" if status in ("queued", "running") else status
    if job.key in ctx["worker"].handed_back:
        outcome = "handed_back"
    elapsed = time.perf_counter() - ctx["started"]
    JOB_DURATION.labels(name, outcome).observe(elapsed)
    if outcome not in ("retried", "handed_back"):
        JOBS_FINISHED.labels(name, outcome).inc()
    tracing.end(ctx.pop("attempt", None), job, outcome, elapsed)


async def watch_queue(worker: Worker[Any], every: float = 2.0) -> None:
    """Keep the queue-depth gauges current (queued includes retries waiting out back-off)."""
    queue = worker.queue
    while True:
        try:
            active = await queue.count("active")
            JOBS_ACTIVE.set(active)
            JOBS_QUEUED.set(await queue.count("incomplete") - active)
        except (RedisError, OSError) as exc:
            log.debug("queue depth not read: %s", exc)
        await asyncio.sleep(every)


class JobWorker(Worker[Any]):
    """saq's worker with a drain: on SIGTERM it takes no new job, gives the running ones
    ``drain_seconds`` to finish, and hands the rest back to the queue with their attempt
    not counted (being stopped is not the job's failure; saq would count it)."""

    drain_seconds = 10.0
    hand_back_seconds = 5.0  # for the cancelled jobs' re-queue writes

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.handed_back: set[str] = set()
        self.draining = False

    async def stop(self) -> None:
        self.event.set()  # a slot that ends its job takes no other
        if not self.draining:
            self.draining = True
            await self.drain()
        await super().stop()

    async def drain(self) -> None:
        queue = cast(JobQueue, self.queue)
        for waiting in list(queue.waiting):  # idle slots stop waiting for a job
            waiting.cancel()
        running = dict(self.job_task_contexts)
        if running:
            log.info("stopping: %d running job(s) get %g s to finish", len(running),
                     self.drain_seconds)  # fmt: skip
            await asyncio.wait([c["task"] for c in running.values()], timeout=self.drain_seconds)
        for job, task_ctx in running.items():
            if not task_ctx["task"].done():
                job.attempts -= 1  # the re-queue below stores the job with this count
                self.handed_back.add(job.key)
                log.info("job %s: handed back to the queue, attempt not counted", job.key)
        # A cancelled slot stops its job and re-queues it (saq's process(): "cancelled").
        slots = [t for t in self.tasks if t.get_name() == "process" and not t.done()]
        for slot in slots:
            slot.cancel()
        if slots:
            await asyncio.wait(slots, timeout=self.hand_back_seconds)


def build_worker(settings: JobSettings) -> Worker[Any]:
    """A saq worker on the jobs queue with this project's timers and hooks."""
    queue = open_queue(settings, retry_seconds=settings.redis_retry_seconds)
    worker = JobWorker(
        queue,
        functions=[(FUNCTION, run_job)],
        concurrency=settings.concurrency,
        startup=startup,
        shutdown=shutdown,
        before_process=before_process,
        after_process=after_process,
        timers=cast(
            Any,
            {
                "schedule": 1,
                "worker_info": 10,
                "sweep": settings.sweep_seconds,
                "abort": settings.abort_poll_seconds,
            },
        ),
        cancellation_hard_deadline_s=2.0,
    )
    worker.context["job_settings"] = settings
    worker.drain_seconds = settings.drain_seconds
    return worker
