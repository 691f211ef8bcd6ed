"""Assemble the FastAPI app: lifespan (channels, Redis), routers, error handlers, metrics.

The lifespan builds the shared objects that ``gateway.api.deps`` hands to routes; every API
router is mounted once, under ``/v1``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI

from gateway import ui
from gateway.api.cached_call import Context
from gateway.api.hit_path import CachedHits
from gateway.api.routes import abilities, docs, fits, graphs, health, jobs, sweeps
from gateway.api.routing import hit_routes
from gateway.core import errors
from gateway.core.auth import ApiKeys, load_keys
from gateway.core.bodylimit import BodyLimit
from gateway.core.cache import ResultCache
from gateway.core.clients import Upstreams
from gateway.core.config import Settings
from gateway.core.metrics import HttpMetrics
from gateway.core.quotas import Quotas
from gateway.core.requestid import RequestIdMiddleware
from gateway.jobs.config import JobSettings
from gateway.jobs.store import JobStore
from services.common import logs, telemetry
from services.common.heap import freeze_startup_heap

log = logging.getLogger(__name__)


def redis_options(settings: Settings) -> dict[str, Any]:
    """Connection options of every gateway Redis client (timeouts; password when set)."""
    return {
        "password": settings.redis_password,
        "socket_timeout": settings.redis_timeout_seconds,
        "socket_connect_timeout": settings.redis_timeout_seconds,
    }


def build_routes(routes: Iterable[Any]) -> int:
    """Have FastAPI build every route's handler now (dependencies, body validator), not on the
    route's first request: FastAPI >= 0.16x builds the routes of an included router lazily,
    which made the first call of a route tens of ms slower than the next (issue 11).
    Returns how many routers were built (0 on a FastAPI that builds eagerly)."""
    built = 0
    for route in routes:
        candidates = getattr(route, "effective_candidates", None)
        if callable(candidates):
            built += 1 + build_routes(candidates())
            low_priority = getattr(route, "effective_low_priority_routes", None)
            if callable(low_priority):
                low_priority()
    return built


def create_worker_app() -> FastAPI:
    """The app of one of several uvicorn worker processes: its own logging, then the app."""
    settings = Settings()
    logs.configure(settings.log_level, "zuhur-gateway")
    return create_app(settings)


def create_app(
    settings: Settings | None = None, job_settings: JobSettings | None = None
) -> FastAPI:
    """The gateway app; channels and the Redis clients live exactly as long as the app."""
    settings = settings or Settings()
    job_settings = job_settings or JobSettings()
    telemetry.setup("zuhur-gateway")  # per process (a no-op without an OTLP endpoint)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.upstreams = Upstreams(settings)
        app.state.cache = ResultCache(settings)
        app.state.jobs = JobStore(job_settings)
        app.state.context = Context(app.state.upstreams, app.state.cache, settings)
        build_routes(app.router.routes)
        freeze_startup_heap()  # full GCs skip the start-up heap: no 200 ms pauses
        try:
            yield
        finally:
            await app.state.upstreams.close()
            await app.state.cache.close()
            await app.state.jobs.close()

    app = FastAPI(
        title="Zuhur",
        version="0.1.0",
        summary="Simulate and fit emergence: giant components and emergent abilities.",
        lifespan=lifespan,
        # Served by docs.install: local assets, and the limits the services report.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    errors.install(app)
    docs.install(app)
    jobs.install(app)
    ui.install(app)
    app.include_router(health.router)  # /healthz, /readyz, /metrics: unversioned
    v1 = APIRouter(prefix="/v1")
    for router in (
        health.v1,
        graphs.router,
        sweeps.router,
        fits.router,
        abilities.router,
        jobs.router,
    ):
        v1.include_router(router)
    app.include_router(v1)
    # The hot path, innermost: after the key check, the quotas and the body limit.
    app.add_middleware(
        CachedHits, routes=hit_routes(v1.prefix), context=lambda scope: scope["app"].state.context
    )
    # Pure ASGI, the last added runs first: key check, then quotas, then the body limit.
    app.add_middleware(
        BodyLimit, limit=settings.max_body_bytes, read_timeout=settings.body_read_timeout_seconds
    )
    if settings.rate_limit or settings.max_concurrent_per_client:  # off: not even a layer
        app.add_middleware(
            Quotas,
            redis_url=settings.redis_url,
            rate=settings.rate_limit,
            concurrency=settings.max_concurrent_per_client,
            slot_ttl_seconds=max(settings.simulation_deadline_seconds,
                                 settings.fitting_deadline_seconds) + 30,
            redis_options=redis_options(settings),
        )  # fmt: skip
    app.state.api_keys = load_keys(settings.api_keys, settings.api_keys_file)
    app.add_middleware(ApiKeys, keys=app.state.api_keys)
    app.add_middleware(HttpMetrics)  # outside the refusals above, so they are counted too
    # Request id and access log inside the tracing middleware, so both see the trace id.
    app.add_middleware(
        RequestIdMiddleware,
        access_log=settings.access_log,
        hit_every=settings.access_log_hit_every,
    )
    telemetry.instrument_app(app)
    return app
