"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel, Field

from gateway.api.deps import CacheDep, JobsDep, UpstreamsDep
from gateway.api.negotiation import NegotiatedRoute
from gateway.core.clients import FITTING, SIMULATION
from gateway.core.metrics import exposition
from gateway.core.protojson import model_for, to_json
from zuhur.v1 import common_pb2

router = APIRouter(tags=["health"], route_class=NegotiatedRoute)
v1 = APIRouter(
    tags=["health"], route_class=NegotiatedRoute
)  # mounted under /v1 with the other API routers


class Checks(BaseModel):
    """What each dependency answered."""

    simulation: Literal["serving", "unavailable"] = Field(description="Simulation service.")
    fitting: Literal["serving", "unavailable"] = Field(description="Fitting service.")
    redis: Literal["ok", "unavailable"] = Field(description="Result cache.")
    jobs: Literal["ok", "unavailable"] = Field(description="Job store (the jobs Redis).")


Status = Literal["ready", "degraded", "unavailable"]


class Readiness(BaseModel):
    """ready: all up; degraded: services up, but the result cache (computed again) or the job
    store (POST /v1/jobs answers 503) is down; unavailable: a service is down."""

    status: Status = Field(description="Overall state.")
    checks: Checks = Field(description="Each dependency's state.")
    reasons: list[str] = Field(description="Why it is not ready: one line per dependency down.")


class Services(BaseModel):
    """Each service's Info."""

    services: list[model_for(common_pb2.InfoResponse.DESCRIPTOR, request=False)] = Field(  # type: ignore[valid-type]
        description="Simulation, then fitting."
    )


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The gateway process is alive."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "A service is not serving."}},
)
async def readyz(upstreams: UpstreamsDep, cache: CacheDep, jobs: JobsDep) -> JSONResponse:
    """Ready when both services are SERVING and both Redis servers answer; either Redis down
    is degraded (200: the synchronous routes still work), a service down is 503."""
    sim, fit, redis_ok, jobs_down = await asyncio.gather(
        upstreams.serving(SIMULATION), upstreams.serving(FITTING), cache.ping(), jobs.unavailable()
    )
    checks = Checks(
        simulation="serving" if sim else "unavailable",
        fitting="serving" if fit else "unavailable",
        redis="ok" if redis_ok else "unavailable",
        jobs="unavailable" if jobs_down else "ok",
    )
    reasons = [
        *([] if sim else [f"{SIMULATION} is not serving"]),
        *([] if fit else [f"{FITTING} is not serving"]),
        *([] if redis_ok else ["result cache unavailable: results are computed again"]),
        *([jobs_down] if jobs_down else []),
    ]
    serving = sim and fit
    status: Status = "degraded" if serving else "unavailable"
    if serving and not reasons:
        status = "ready"
    body = Readiness(status=status, checks=checks, reasons=reasons).model_dump()
    return JSONResponse(body, status_code=200 if serving else 503)


@v1.get("/info", response_model=Services)
async def info(upstreams: UpstreamsDep) -> JSONResponse:
    """Each service's engine version, configured limits and models (what a client may ask)."""
    replies = await asyncio.gather(upstreams.info(SIMULATION, 5.0), upstreams.info(FITTING, 5.0))
    return JSONResponse({"services": [to_json(r) for r in replies]})


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    """Prometheus exposition: this process's metrics, or every worker's of this machine in
    multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``, as `make up` runs the gateway)."""
    return Response(exposition(), media_type=CONTENT_TYPE_LATEST)
