"""Assemble the FastAPI app: lifespan (channels, Redis), routers, error handlers, metrics."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response

from gateway import ui
from gateway.api.routes import abilities, docs, fits, graphs, health, jobs, sweeps
from gateway.core import errors
from gateway.core.cache import ResultCache
from gateway.core.clients import Upstreams
from gateway.core.config import Settings
from gateway.core.metrics import HTTP_DURATION, HTTP_REQUESTS
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
    app.include_router(health.router)
    app.include_router(graphs.router)
    app.include_router(sweeps.router)
    app.include_router(fits.router)
    app.include_router(abilities.router)
    app.include_router(jobs.router)

    @app.middleware("http")
    async def observe(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        start = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")
        HTTP_REQUESTS.labels(request.method, template, str(response.status_code)).inc()
        HTTP_DURATION.labels(request.method, template).observe(time.perf_counter() - start)
        return response

    return app
