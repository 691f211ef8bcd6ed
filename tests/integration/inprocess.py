"""The gateway app in this process: httpx ``ASGITransport`` against ``create_app``, an
in-process ``grpc.aio`` simulation upstream on loopback, and a real redis-server.

The upstream answers from the request alone (so a test knows the exact result), counts its
calls, can hold them until released (single flight) and fails the way the real services do
(their own rich-status helpers). No kernels run: these tests are about the gateway's paths.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from typing import Any

import grpc
import httpx
import redis

from deploy.local.redis import redis_args
from gateway.core.clients import SIMULATION
from gateway.core.config import Settings
from gateway.jobs.config import JobSettings
from gateway.main import create_app
from services.common.errors import InvalidArgument
from services.common.rpc import busy_status, invalid_argument_status
from services.common.server import add_service
from tests.integration.stack import free_port
from zuhur.v1 import common_pb2, simulation_pb2, simulation_pb2_grpc

ENGINE = "inprocess-1"
SWEEP_STEPS = 3  # progress events before the curve


BAD_SEED, BUSY_SEED, DIES_SEED = 13, 14, 15


class Upstream(simulation_pb2_grpc.SimulationServicer):
    """A simulation service whose answers follow from the request's seed (the gateway checks
    ``model`` itself): ``BAD_SEED`` is an INVALID_ARGUMENT naming ``seed``, ``BUSY_SEED`` a
    RESOURCE_EXHAUSTED asking 2.3 s, ``DIES_SEED`` (sweeps) sends progress then UNAVAILABLE."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.gate = asyncio.Event()
        self.gate.set()

    async def Info(self, request: Any, context: Any) -> common_pb2.InfoResponse:
        return common_pb2.InfoResponse(service=SIMULATION, engine_version=ENGINE)

    async def _refuse(self, seed: int, context: Any) -> None:
        if seed == BAD_SEED:
            error = InvalidArgument.field("seed", f"seed {BAD_SEED} is refused here")
            await context.abort_with_status(invalid_argument_status(error))
        if seed == BUSY_SEED:
            await context.abort_with_status(busy_status(limit=1, retry_after=2.3))

    async def SampleGraph(self, request: Any, context: Any) -> simulation_pb2.SampleGraphResponse:
        self.calls["SampleGraph"] += 1
        await self.gate.wait()
        await self._refuse(request.seed, context)
        return simulation_pb2.SampleGraphResponse(**expected_sample(request))

    async def Sweep(self, request: Any, context: Any) -> AsyncIterator[simulation_pb2.SweepEvent]:
        self.calls["Sweep"] += 1
        await self._refuse(request.seed, context)
        for done in range(1, SWEEP_STEPS + 1):
            progress = simulation_pb2.SweepProgress(done=done, total=SWEEP_STEPS)
            yield simulation_pb2.SweepEvent(progress=progress)
            if request.seed == DIES_SEED:
                await context.abort(grpc.StatusCode.UNAVAILABLE, "replica went away")
        yield simulation_pb2.SweepEvent(curve=simulation_pb2.SweepCurve(**expected_curve(request)))


def expected_sample(request: Any) -> dict[str, Any]:
    """What the upstream answers to a SampleGraphRequest (also the test's JSON truth)."""
    return {
        "model": request.model,
        "n": request.n,
        "p": request.c / (request.n - 1),
        "seed": request.seed,
        "engine_version": ENGINE,
    }


def expected_curve(request: Any) -> dict[str, Any]:
    return {
        "model": request.model,
        "n": request.n,
        "control": "c",
        "seed": request.seed,
        "engine_version": ENGINE,
    }


@contextmanager
def redis_server() -> Iterator[str]:
    """A real, disposable redis-server on a free loopback port; yields its URL."""
    port = free_port()
    proc = subprocess.Popen(redis_args(port), stdout=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    try:
        for _ in range(200):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                asyncio.run(asyncio.sleep(0.025))
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        client.close()
        proc.terminate()
        proc.wait(10)


@asynccontextmanager
async def upstream_server(servicer: Upstream) -> AsyncIterator[int]:
    """Serve ``servicer`` on a free loopback port in this event loop; yields the port."""
    server = grpc.aio.server()
    add_service(servicer, simulation_pb2.DESCRIPTOR.services_by_name["Simulation"], server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield port
    finally:
        await server.stop(0)


@asynccontextmanager
async def gateway(
    redis_url: str, upstream_port: int, **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a fresh gateway app (lifespan run) wired to the upstream and Redis, with
    any other ``Settings`` from ``overrides``; two of them on the same Redis behave like two
    gateway workers."""
    settings = Settings(
        simulation_target=f"127.0.0.1:{upstream_port}",
        fitting_target=f"127.0.0.1:{free_port()}",  # nothing there
        redis_url=redis_url,
        single_flight_wait_seconds=10.0,
        **overrides,
    )
    app = create_app(settings, JobSettings(redis_url=redis_url))
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(app.router.lifespan_context(app))
        transport = httpx.ASGITransport(app=app)
        client = httpx.AsyncClient(transport=transport, base_url="http://gateway")
        yield await stack.enter_async_context(client)
