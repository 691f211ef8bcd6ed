"""Assemble the FastAPI app: lifespan (channels, Redis), routers, error handlers, metrics.

The lifespan builds the shared objects that ``gateway.api.deps`` hands to routes; every API
router is mounted once, under ``/v1``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from gateway.api.cached_call import Context
from gateway.api.routes import abilities, docs, fits, graphs, health, jobs, sweeps
from gateway.core import errors
from gateway.core.cache import ResultCache
from gateway.core.clients import Upstreams
from gateway.core.config import Settings
from gateway.core.metrics import HttpMetrics
from gateway.jobs.config import JobSettings
from gateway.jobs.store import JobStore

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None, job_settings: JobSettings | None = None
) -> FastAPI:
    """The gateway app; channels and the Redis clients live exactly as long as the app."""
    settings = settings or Settings()
    job_settings = job_settings or JobSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.upstreams = Upstreams(settings)
        app.state.cache = ResultCache(settings)
        app.state.jobs = JobStore(job_settings)
        app.state.context = Context(app.state.upstreams, app.state.cache, settings)
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
    app.add_middleware(HttpMetrics)
    return app
