"""Assemble the FastAPI app: lifespan (channels, Redis), routers, error handlers, metrics."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response

from gateway.api.routes import abilities, docs, fits, graphs, health, jobs, sweeps
from gateway.core import errors
from gateway.core.auth import ApiKeys, load_keys
from gateway.core.bodylimit import BodyLimit
from gateway.core.cache import ResultCache
from gateway.core.clients import Upstreams
from gateway.core.config import Settings
from gateway.core.metrics import HTTP_DURATION, HTTP_REQUESTS
from gateway.core.quotas import Quotas
from gateway.core.requestid import RequestIdMiddleware
from gateway.jobs.config import JobSettings
from gateway.jobs.store import JobStore
from services.common import telemetry

log = logging.getLogger(__name__)


def redis_options(settings: Settings) -> dict[str, Any]:
    """Connection options of every gateway Redis client (timeouts; password when set)."""
    return {
        "password": settings.redis_password,
        "socket_timeout": settings.redis_timeout_seconds,
        "socket_connect_timeout": settings.redis_timeout_seconds,
    }


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

    # Pure ASGI, the last added runs first: key check, then quotas, then the body limit.
    app.add_middleware(
        BodyLimit, limit=settings.max_body_bytes, read_timeout=settings.body_read_timeout_seconds
    )
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
    # Request id and access log inside the tracing middleware, so both see the trace id.
    app.add_middleware(RequestIdMiddleware, access_log=settings.access_log)
    telemetry.instrument_app(app)
    return app
