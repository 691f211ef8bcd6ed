"""Jobs: run any computing method in the background; watch, cancel and fetch it later.

Submission validates and seeds exactly as the synchronous routes do, so a job's result is the
same JSON (and, seeded, the same bytes) as the synchronous call; the worker does the work.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, FastAPI, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from redis.exceptions import RedisError
from saq import Job

from gateway.api.cached_call import JSON, cacheable, encode
from gateway.api.deps import ContextDep, JobsDep
from gateway.api.negotiation import NegotiatedRoute
from gateway.core.errors import ERROR_RESPONSES, PROBLEM, problem
from gateway.core.protojson import from_json, model_for
from gateway.jobs import methods
from gateway.jobs.metrics import JOBS_FINISHED, JOBS_SUBMITTED
from gateway.jobs.records import TERMINAL, problem_of, progress_of, view
from services.common.seeds import draw_seed

router = APIRouter(prefix="/jobs", tags=["jobs"], route_class=NegotiatedRoute)


class JobIn(BaseModel):
    """A job: the method's name and the body its synchronous route takes."""

    model_config = ConfigDict(extra="forbid")
    method: str = Field(description="sweep, sample, simulate_abilities, power_law, emergence ...")
    request: dict[str, Any] = Field(
        default_factory=dict, description="The body the method's synchronous route takes."
    )


class JobNotFound(Exception):
    """No job has this id (or its record expired)."""


JOB_EXAMPLE = {
    "method": "sweep",
    "request": {
        "model": "erdos_renyi",
        "n": 100000,
        "grid": {"start": 0, "stop": 4, "points": 50},
        "replicates": 20,
        "seed": 1,
    },
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such job", "content": {PROBLEM: {}}},
    422: ERROR_RESPONSES[422],
}


async def existing(job_id: str, jobs: JobsDep) -> Job:
    """The job named in the path, or a 404 problem."""
    job = await jobs.get(job_id)
    if job is None:
        raise JobNotFound(job_id)
    return job


def _invalid(loc: tuple[Any, ...], message: str, kind: str = "value_error") -> None:
    raise RequestValidationError([{"loc": ("body", *loc), "msg": message, "type": kind}])


@router.post("", status_code=202, responses={**ERROR_RESPONSES, 202: {"description": "Queued"}})
async def submit(
    body: Annotated[JobIn, Body(examples=[JOB_EXAMPLE])],
    jobs: JobsDep,
    ctx: ContextDep,
    cache_control: Annotated[str, Header()] = "",
) -> JSONResponse:
    """Queue a job (or join the identical one already queued or running): 202 and Location.

    ``request`` is validated as the method's synchronous route validates it (its schema
    here, then its service's rules and limits by a validate-only call: the same 422, and
    nothing queued), and an unseeded random request gets its seed now, so every attempt
    computes the same bytes.
    ``Cache-Control: no-cache`` skips the result-cache lookup (the result is still stored).
    """
    method = methods.lookup(body.method)
    if method is None:
        names = ", ".join(sorted(methods.methods()))
        _invalid(("method",), f"unknown method {body.method!r}; one of: {names}")
    assert method is not None
    model = model_for(method.request_type.DESCRIPTOR, request=True)
    try:
        validated = model.model_validate(body.request)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", "request", *e["loc"])} for e in exc.errors()]
        ) from exc
    data = validated.model_dump(exclude_none=True)
    message = from_json(data, method.request_type)
    if not cacheable(message):  # random and unseeded: the seed is drawn once, here
        data["seed"] = draw_seed()
        message = from_json(data, method.request_type)
    await methods.check(ctx, method, message)
    bypass = "no-cache" in cache_control.lower()
    name = methods.job_name(method.method)
    job, joined = await jobs.submit(name, message, data, lookup=not bypass)
    JOBS_SUBMITTED.labels(name, str(joined).lower()).inc()
    headers = {"Location": f"/v1/jobs/{job.key}"}
    if bypass:
        headers["X-Cache"] = "BYPASS"
    return JSONResponse(view(job), status_code=202, headers=headers)


@router.get("", responses={422: ERROR_RESPONSES[422]})
async def list_jobs(
    store: JobsDep,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> JSONResponse:
    """Recent jobs, newest first, without their results (``next`` pages on)."""
    jobs, total = await store.recent(offset, limit)
    following = offset + limit
    return JSONResponse(
        {
            "jobs": [view(job, result=False) for job in jobs],
            "total": total,
            "next": f"/v1/jobs?offset={following}&limit={limit}" if following < total else None,
        }
    )


@router.get("/{job_id}", responses=NOT_FOUND)
async def get_job(job: Annotated[Job, Depends(existing)]) -> JSONResponse:
    """Status, progress, timestamps; the result (the synchronous route's JSON) or error."""
    return JSONResponse(view(job))


@router.get("/{job_id}/result", responses={**ERROR_RESPONSES, **NOT_FOUND})
async def get_result(job: Annotated[Job, Depends(existing)]) -> Response:
    """Exactly the synchronous route's response body; the job's problem if it failed,
    409 while it is not finished."""
    document = view(job)
    if document["status"] == "succeeded":  # encoded as the route encodes (and caches) it
        return Response(encode(job.result), media_type=JSON)
    error = problem_of(job)
    if error is not None:
        return JSONResponse(error, status_code=int(error["status"]), media_type=PROBLEM)
    return problem(409, "Not finished", f"job {job.key} is {document['status']}")


@router.delete("/{job_id}", responses=NOT_FOUND)
async def cancel_job(job: Annotated[Job, Depends(existing)], jobs: JobsDep) -> JSONResponse:
    """Cancel a queued or running job (its computation stops within a second); a finished
    job is left as it is."""
    before = view(job, result=False)["status"]
    await jobs.cancel(job)
    after = view(await jobs.get(job.key) or job)
    if before == "queued" and after["status"] == "cancelled":  # no worker will count it
        JOBS_FINISHED.labels(after["method"], "cancelled").inc()
    return JSONResponse(after)


@router.get("/{job_id}/events", response_class=EventSourceResponse, responses=NOT_FOUND)
async def job_events(
    job: Annotated[Job, Depends(existing)], request: Request, jobs: JobsDep
) -> AsyncIterator[ServerSentEvent]:
    """Server-Sent Events: ``status`` when it changes, ``progress`` as it moves, then one
    ``final`` event carrying the whole job (as GET /v1/jobs/{id}) and the stream ends."""
    poll = jobs.settings.events_poll_seconds
    last_status, last_progress = None, None
    current: Job | None = job
    while current is not None:
        document = view(current, result=False)
        if document["status"] in TERMINAL:
            yield ServerSentEvent(event="final", data=view(current))
            return
        if document["status"] != last_status:
            last_status = document["status"]
            yield ServerSentEvent(event="status", data={"status": last_status})
        progress = progress_of(current)
        if progress != last_progress and progress["total"]:
            last_progress = progress
            yield ServerSentEvent(event="progress", data=progress)
        await asyncio.sleep(poll)
        current = await jobs.get(job.key)
    yield ServerSentEvent(event="final", data=None)  # the record expired meanwhile


def install(app: FastAPI) -> None:
    """The job store for the app's lifetime is set in lifespan; 404s are problems."""

    @app.exception_handler(JobNotFound)
    async def _not_found(request: Request, exc: JobNotFound) -> JSONResponse:
        return problem(404, "Not found", f"no job {exc.args[0]}")

    @app.exception_handler(RedisError)
    async def _store_down(request: Request, exc: RedisError) -> JSONResponse:
        return problem(503, "Service unavailable", f"the jobs store is unavailable: {exc}")
