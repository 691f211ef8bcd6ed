"""The app's shared objects as FastAPI dependencies: routes declare what they use.

``main.create_app`` builds the gRPC upstreams, the result cache, the job store and the
settings once in its lifespan; these ``Annotated`` aliases hand them to a route
(``upstreams: UpstreamsDep``), so no route reads ``request.app.state`` itself and a test
can swap one with ``app.dependency_overrides``. All are ``async`` so FastAPI calls them
inline rather than in its thread pool.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from gateway.api.cached_call import Context
from gateway.core.cache import ResultCache
from gateway.core.clients import Upstreams
from gateway.core.config import Settings
from gateway.jobs.store import JobStore


async def get_settings(request: Request) -> Settings:
    """The gateway settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


async def get_upstreams(request: Request) -> Upstreams:
    """The gRPC channels and stubs of the simulation and fitting services."""
    upstreams: Upstreams = request.app.state.upstreams
    return upstreams


async def get_cache(request: Request) -> ResultCache:
    """The Redis result cache."""
    cache: ResultCache = request.app.state.cache
    return cache


async def get_jobs(request: Request) -> JobStore:
    """The durable job queue's store."""
    jobs: JobStore = request.app.state.jobs
    return jobs


SettingsDep = Annotated[Settings, Depends(get_settings)]
UpstreamsDep = Annotated[Upstreams, Depends(get_upstreams)]
CacheDep = Annotated[ResultCache, Depends(get_cache)]
JobsDep = Annotated[JobStore, Depends(get_jobs)]


async def get_context(request: Request) -> Context:
    """What the cached-call path needs (upstreams, cache, settings), built once by the
    lifespan: one dependency on the hot path instead of three."""
    context: Context = request.app.state.context
    return context


ContextDep = Annotated[Context, Depends(get_context)]
