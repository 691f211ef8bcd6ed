"""Thin gRPC adapter of the simulation engine: proto in, plain science call, proto out.

Also the scale-out coordinator: a big sweep fans out over replicas as SweepBatch calls.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from typing import Any

import grpc
import numpy as np

from services.common.errors import InvalidArgument
from services.common.protoargs import optional, proto_kwargs, request_seed
from services.common.rpc import ServicerBase, current_control, server_stream, unary
from services.simulation import ENGINE_VERSION
from services.simulation.abilities import LossLaw, simulate_abilities
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
from services.simulation.replicates import contiguous_batches
from services.simulation.sweeps import (
    SweepBatch,
    merge_batches,
    plan_sweep,
    summarize,
    sweep,
    sweep_batch,
)
from zuhur.v1 import common_pb2, simulation_pb2, simulation_pb2_grpc

FULL_NAME = "zuhur.v1.Simulation"
# A replica that is busy or gone: run its batch on this one instead.
_RUN_HERE = (grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.UNAVAILABLE)


PROGRESS_INTERVAL = 0.5
"""Seconds between progress events of a local sweep."""


class SimulationServicer(ServicerBase, simulation_pb2_grpc.SimulationServicer):
    """Runs each request on a dispatch thread; replicate blocks fan out to the kernel pool."""

    service_name = FULL_NAME

    def __init__(self, settings: SimulationSettings) -> None:
        # Request threads only wait on kernel threads, so they never deadlock the pool.
        super().__init__(workers=settings.max_in_flight, max_in_flight=settings.max_in_flight)
        self.kernels = ThreadPoolExecutor(settings.workers, thread_name_prefix="numba")
        self.limits = settings.limits
        self.settings = settings
        self._peers: simulation_pb2_grpc.SimulationStub | None = None

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
            edge_lists=request.edge_lists,
        )
        return sample_response(result)

    @server_stream
    async def Sweep(
        self, request: simulation_pb2.SweepRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[simulation_pb2.SweepEvent]:
        args = sweep_args(request)
        fanout = self.settings.fanout_target and args["replicates"] >= max(
            2, self.settings.fanout_min_replicates
        )
        events = self._fanned_sweep(request, args) if fanout else self._local_sweep(args)
        async for event in events:
            yield event

    async def _local_sweep(self, args: dict[str, Any]) -> AsyncIterator[simulation_pb2.SweepEvent]:
        """Run every replicate here. Progress at once (0 done), then every
        ``PROGRESS_INTERVAL`` seconds from the kernels' meters, then the curve. If the
        client goes away, the run is cancelled and this ends once the kernels stopped."""
        plan = plan_sweep(**args, limits=self.limits)  # a bad request fails before any event
        control = current_control()
        yield progress_event(0, plan.replicates)
        task = asyncio.ensure_future(
            self.run_blocking(
                sweep, **args, limits=self.limits, executor=self.kernels, control=control
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

    async def _fanned_sweep(
        self, request: simulation_pb2.SweepRequest, args: dict[str, Any]
    ) -> AsyncIterator[simulation_pb2.SweepEvent]:
        """Split replicates into contiguous batches run by the replicas behind
        ``fanout_target`` (a busy or unreachable replica's batch runs here), then merge
        them in replicate order: the same bytes as a one-replica run. Progress counts
        finished batches; if the client leaves, every batch call is cancelled."""
        plan = plan_sweep(**args, limits=self.limits)  # validate before fanning out
        yield progress_event(0, plan.replicates)
        seeded = simulation_pb2.SweepRequest()
        seeded.CopyFrom(request)
        seeded.seed = plan.seed
        pieces = contiguous_batches(0, plan.replicates, self.settings.fanout_batches)
        calls = {
            asyncio.ensure_future(self._batch(seeded, args, first, count))
            for first, count in pieces
        }
        batches: list[SweepBatch] = []
        try:
            pending = set(calls)
            while pending:  # progress as batches land, and at least every interval
                finished, pending = await asyncio.wait(
                    pending, timeout=PROGRESS_INTERVAL, return_when=asyncio.FIRST_COMPLETED
                )
                batches.extend(f.result() for f in finished)
                yield progress_event(sum(b.count for b in batches), plan.replicates)
        finally:  # the client left or a batch failed: stop the others (here and on peers)
            for call in calls:
                call.cancel()
            await asyncio.gather(*calls, return_exceptions=True)
        result = summarize(merge_batches(batches))
        yield simulation_pb2.SweepEvent(curve=sweep_curve(result))

    async def _batch(
        self, request: simulation_pb2.SweepRequest, args: dict[str, Any], first: int, count: int
    ) -> SweepBatch:
        if self._peers is None:
            self._peers = simulation_pb2_grpc.SimulationStub(
                grpc.aio.insecure_channel(
                    self.settings.fanout_target or "",
                    options=[("grpc.lb_policy_name", "round_robin")],
                )
            )
        call = simulation_pb2.SweepBatchRequest(sweep=request, first=first, count=count)
        local = {**args, "seed": request.seed}
        try:
            reply = await self._peers.SweepBatch(
                call, timeout=self.settings.fanout_deadline_seconds
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() not in _RUN_HERE:
                raise
            return await self.run_blocking(
                sweep_batch, **local, first=first, count=count, limits=self.limits,
                executor=self.kernels,
            )  # fmt: skip
        if reply.engine_version != ENGINE_VERSION:
            raise RuntimeError(f"replica runs engine {reply.engine_version}, not {ENGINE_VERSION}")
        plan = plan_sweep(**local, limits=self.limits)
        shape = (reply.count, reply.points, reply.moments)
        return SweepBatch(
            plan, reply.first, np.asarray(reply.values, dtype=np.float64).reshape(shape)
        )

    @unary
    async def SweepBatch(
        self, request: simulation_pb2.SweepBatchRequest, context: grpc.aio.ServicerContext
    ) -> simulation_pb2.SweepBatchResponse:
        if not request.sweep.HasField("seed"):
            raise InvalidArgument.field("sweep.seed", "a batch needs the sweep's seed")
        batch = await self.run_blocking(
            sweep_batch,
            **sweep_args(request.sweep),
            first=request.first,
            count=request.count,
            limits=self.limits,
            executor=self.kernels,
            control=current_control(),
        )
        count, points, moments = batch.moments.shape
        reply = simulation_pb2.SweepBatchResponse(
            first=batch.first,
            count=count,
            points=points,
            moments=moments,
            engine_version=ENGINE_VERSION,
        )
        reply.values.extend(batch.moments.ravel().tolist())
        return reply

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

    def close(self) -> None:
        super().close()
        self.kernels.shutdown(wait=False, cancel_futures=True)


def register(servicer: ServicerBase, server: grpc.aio.Server) -> None:
    simulation_pb2_grpc.add_SimulationServicer_to_server(servicer, server)
