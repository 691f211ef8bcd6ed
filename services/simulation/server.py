"""Thin gRPC adapter of the simulation engine: proto in, plain science call, proto out.

With a Dask scheduler configured, big requests run on its workers (cluster.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from typing import Any

import grpc

from services.common.protoargs import optional, proto_kwargs, request_seed
from services.common.rpc import ServicerBase, current_control, server_stream, unary
from services.common.server import add_service
from services.simulation import ENGINE_VERSION
from services.simulation.abilities import LossLaw, simulate_abilities
from services.simulation.cluster import DaskBlocks
from services.simulation.config import SimulationSettings
from services.simulation.graphs import sample_graph
from services.simulation.models import MODELS
from services.simulation.protomap import (
    abilities_response,
    degrees_of,
    progress_event,
    sample_response,
    sweep_args,
    sweep_curve,
)
from services.simulation.sweeps import plan_sweep, sweep
from zuhur.v1 import common_pb2, simulation_pb2, simulation_pb2_grpc

FULL_NAME = "zuhur.v1.Simulation"


PROGRESS_INTERVAL = 0.5
"""Seconds between progress events of a local sweep."""


class SimulationServicer(ServicerBase, simulation_pb2_grpc.SimulationServicer):
    """Runs each request on a dispatch thread; replicate blocks fan out to the kernel pool."""

    service_name = FULL_NAME

    def __init__(self, settings: SimulationSettings) -> None:
        # Request threads only wait on kernel threads, so they never deadlock the pool.
        super().__init__(workers=settings.max_in_flight, max_in_flight=settings.max_in_flight)
        self.kernels = ThreadPoolExecutor(settings.workers, thread_name_prefix="numba")
        self.limits = settings.effective_limits()
        self.settings = settings
        self.cluster = (
            DaskBlocks(
                settings.dask_scheduler,
                min_replicates=settings.dask_min_replicates,
                batches=settings.dask_batches,
                connect_timeout=settings.dask_connect_seconds,
                silent_seconds=settings.dask_silent_seconds,
            )
            if settings.dask_scheduler
            else None
        )

    @unary
    async def SampleGraph(
        self, request: simulation_pb2.SampleGraphRequest, context: grpc.aio.ServicerContext
    ) -> simulation_pb2.SampleGraphResponse:
        replicates = optional(request, "replicates")
        result = await self.run_blocking(
            sample_graph,
            request.model or "erdos_renyi",
            **{k: optional(request, k) for k in ("n", "p", "c", "m", "L", "phi")},
            degrees=degrees_of(request),
            replicates=1 if replicates is None else replicates,
            seed=request_seed(request),
            limits=self.limits,
            executor=self.kernels,
            max_workers=self.settings.workers,
            control=current_control(),
            cluster=self.cluster,
            edge_lists=request.edge_lists,
        )
        return sample_response(result)

    @server_stream
    async def Sweep(
        self, request: simulation_pb2.SweepRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[simulation_pb2.SweepEvent]:
        """Progress at once (0 done), then every ``PROGRESS_INTERVAL`` seconds from the
        kernels' meters (on a cluster: as its blocks land), then the curve. If the client
        goes away, the run is cancelled and this ends once the kernels stopped."""
        args = sweep_args(request)
        # a bad request (or one over the memory budget) fails before any event
        plan = plan_sweep(**args, limits=self.limits, threads=self.settings.workers)
        control = current_control()
        control.validated()  # a validate-only request ends here, with no event
        yield progress_event(0, plan.replicates)
        task = asyncio.ensure_future(
            self.run_blocking(
                sweep,
                **args,
                limits=self.limits,
                executor=self.kernels,
                control=control,
                cluster=self.cluster,
            )
        )
        try:
            while not task.done():
                await asyncio.wait({task}, timeout=PROGRESS_INTERVAL)
                if not task.done():
                    yield progress_event(control.done(), plan.replicates)
            result = task.result()
            yield progress_event(plan.replicates, plan.replicates)
            yield simulation_pb2.SweepEvent(curve=sweep_curve(result))
        finally:
            if not task.done():  # the client went away: stop the kernels, then leave
                task.cancel()
                await asyncio.wait({task})
            if not task.cancelled():
                task.exception()  # retrieved: a failure was already reported, or moot

    @unary
    async def SimulateAbilities(
        self, request: simulation_pb2.SimulateAbilitiesRequest, context: grpc.aio.ServicerContext
    ) -> simulation_pb2.SimulateAbilitiesResponse:
        kwargs = proto_kwargs(request, skip=("seed",))
        if not kwargs["metrics"]:
            del kwargs["metrics"]
        kwargs["token_accuracy"] = kwargs["token_accuracy"] or None
        if request.HasField("loss_law"):
            kwargs["loss_law"] = LossLaw(N_c=request.loss_law.N_c, alpha=request.loss_law.alpha)
        result = await self.run_blocking(
            simulate_abilities,
            **kwargs,
            seed=request_seed(request),
            limits=self.settings.ability_limits,
            executor=self.kernels,
            control=current_control(),
            cluster=self.cluster,
        )
        return abilities_response(result)

    @unary
    async def Info(
        self, request: common_pb2.InfoRequest, context: grpc.aio.ServicerContext
    ) -> common_pb2.InfoResponse:
        return common_pb2.InfoResponse(
            service=FULL_NAME,
            engine_version=ENGINE_VERSION,
            limits={
                **{k: float(v) for k, v in asdict(self.limits).items()},
                **{
                    f"abilities_{k}": float(v)
                    for k, v in asdict(self.settings.ability_limits).items()
                },
            },
            models=list(MODELS),
        )

    def nodes_per_replicate(self, request: Any) -> int:
        """n, or L * L for the lattices; abilities have no graph."""
        fields = request.DESCRIPTOR.fields_by_name
        if "n" in fields and request.HasField("n"):
            return int(request.n)
        if "L" in fields and request.HasField("L"):
            return int(request.L) ** 2
        return 0

    def close(self) -> None:
        super().close()
        self.kernels.shutdown(wait=False, cancel_futures=True)
        if self.cluster is not None:
            self.cluster.close()


def register(servicer: ServicerBase, server: grpc.aio.Server) -> None:
    add_service(servicer, simulation_pb2.DESCRIPTOR.services_by_name["Simulation"], server)
