"""The gRPC side as grpcurl and Kubernetes see it: health, reflection, overload, shutdown."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from tests.integration.stack import Stack, free_port, start_stack, wait_serving
from zuhur.v1 import common_pb2, simulation_pb2, simulation_pb2_grpc

BIG = {"model": "erdos_renyi", "n": 2_000_000, "c": 3.0, "replicates": 4}


def target(stack: Stack, name: str) -> str:
    return f"127.0.0.1:{stack.ports[name]}"


@pytest.mark.parametrize(
    ("name", "service"), [("simulation", "zuhur.v1.Simulation"), ("fitting", "zuhur.v1.Fitting")]
)
def test_health_and_reflection(stack: Stack, name: str, service: str) -> None:
    with grpc.insecure_channel(target(stack, name)) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for probe in ("", service):  # liveness and readiness
            reply = health.Check(health_pb2.HealthCheckRequest(service=probe), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
        reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        reply = next(iter(reflection.ServerReflectionInfo(iter([request]), timeout=5)))
        names = {s.name for s in reply.list_services_response.service}
        assert {service, "grpc.health.v1.Health"} <= names


def test_info_reports_engine_version_and_limits(stack: Stack) -> None:
    with grpc.insecure_channel(target(stack, "simulation")) as channel:
        info = simulation_pb2_grpc.SimulationStub(channel).Info(common_pb2.InfoRequest())
    assert info.engine_version and info.limits["max_nodes"] > 0
    assert "erdos_renyi" in info.models


def test_overload_is_refused_not_queued(tmp_path: Path, numba_cache: Path) -> None:
    stack = start_stack(tmp_path, numba_cache, ZUHUR_SIMULATION_MAX_IN_FLIGHT="1")
    try:

        async def burst() -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=stack.url, timeout=120) as client:
                calls = [client.post("/v1/graphs/sample", json=BIG) for _ in range(6)]
                return list(await asyncio.gather(*calls))

        replies = asyncio.run(burst())
        codes = sorted(r.status_code for r in replies)
        assert 200 in codes and 429 in codes, codes
        refused = next(r for r in replies if r.status_code == 429)
        assert refused.headers["Retry-After"] and "max_in_flight" in refused.json()["detail"]

        async def direct() -> list[grpc.StatusCode]:
            async with grpc.aio.insecure_channel(target(stack, "simulation")) as channel:
                stub = simulation_pb2_grpc.SimulationStub(channel)
                request = simulation_pb2.SampleGraphRequest(**BIG)
                calls = [stub.SampleGraph(request, timeout=120) for _ in range(4)]
                out = await asyncio.gather(*calls, return_exceptions=True)
            return [
                grpc.StatusCode.OK if not isinstance(o, grpc.aio.AioRpcError) else o.code()
                for o in out
            ]

        assert grpc.StatusCode.RESOURCE_EXHAUSTED in asyncio.run(direct())
    finally:
        stack.close()


def test_sigterm_drains_in_flight_calls(own_stack: Stack) -> None:
    """A call already running when SIGTERM arrives still completes (graceful stop)."""

    async def run() -> httpx.Response:
        async with httpx.AsyncClient(base_url=own_stack.url, timeout=120) as client:
            # Small enough to finish within the 10 s drain on a busy machine; a fast one may
            # finish it before it is seen in flight, so it grows until it is.
            for n in (500_000, 2_000_000, 8_000_000):
                call = asyncio.create_task(client.post("/v1/graphs/sample", json={**BIG, "n": n}))
                while own_stack.in_flight() < 1 and not call.done():
                    await asyncio.sleep(0.01)
                if call.done():
                    assert call.result().status_code == 200, call.result().text
                    continue
                stopping = asyncio.to_thread(own_stack.stop, "simulation")
                reply, code = await asyncio.gather(call, stopping)
                assert code == 0
                return reply
            raise AssertionError("no call was ever seen in flight")

    assert asyncio.run(run()).status_code == 200


def test_second_start_loads_kernels_from_the_numba_cache(stack: Stack, tmp_path: Path) -> None:
    """The shared stack compiled (or loaded) every kernel; a new process must only read them."""
    cache = stack.numba_cache
    before = {p: p.stat().st_mtime_ns for p in cache.rglob("*") if p.is_file()}
    assert any(p.suffix == ".nbi" for p in before), "warm-up wrote no numba cache index"
    second = Stack(tmp_path, cache, ports=dict(stack.ports))
    second.ports["simulation"] = free_port()
    second.ports["simulation_metrics"] = free_port()
    second.start("simulation")
    try:
        wait_serving(second.ports["simulation"], "zuhur.v1.Simulation")
    finally:
        second.close()
    after = {p: p.stat().st_mtime_ns for p in cache.rglob("*") if p.is_file()}
    assert after == before, "second start recompiled: " + str(
        set(after.items()) ^ set(before.items())
    )
