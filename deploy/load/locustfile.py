"""Locust load test of Zuhur: the gateway over HTTP and the simulation engine over gRPC.

    make load                                   # headless, bounded, reports in .load/
    python -m locust -f deploy/load/locustfile.py --host http://127.0.0.1:8000   # web UI

Users (Locust picks them by ``weight``; name classes on the command line to run a subset):
  SeededGatewayUser    every compute route with seeds from a small pool: a realistic mix of
                       Redis HITs (repeat requests) and MISSes
  UnseededGatewayUser  the same routes without a seed: the cache is bypassed, every request
                       computes
  SimulationGrpcUser   the simulation service directly (ZUHUR_LOAD_SIMULATION_TARGET,
                       default 127.0.0.1:50051), per Locust's gRPC recipe: a client
                       interceptor reports each call to Locust
Run from the repository root with ``python -m locust`` (so ``deploy`` imports).
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import grpc
import grpc.experimental.gevent as grpc_gevent
from locust import FastHttpUser, User, between, events, task
from locust.env import Environment

from deploy.load.bodies import BODIES, CRITICAL_POINT, CRITICAL_POINT_SWEEPS, critical_point_body
from zuhur.v1 import simulation_pb2 as pb
from zuhur.v1 import simulation_pb2_grpc

grpc_gevent.init_gevent()  # gRPC's I/O on gevent, as Locust's users are greenlets

SEED_POOL = 8  # seeded users draw seeds from this many: repeats hit the cache


class _GatewayUser(FastHttpUser):
    abstract = True
    wait_time = between(0.1, 0.5)
    seeded = True

    def on_start(self) -> None:
        sweeps = [
            self.client.post("/v1/sweeps", json=b, name="/v1/sweeps [critical-point set-up]").json()
            for b in CRITICAL_POINT_SWEEPS
        ]
        self.critical_point = critical_point_body(sweeps)

    def _post(self, path: str, body: dict[str, Any]) -> None:
        kind = "seeded" if self.seeded else "unseeded"
        if self.seeded:
            body = {**body, "seed": random.randrange(SEED_POOL)}
        self.client.post(path, json=body, name=f"{path} [{kind}]")

    @task(4)
    def sample(self) -> None:
        self._post("/v1/graphs/sample", BODIES["/v1/graphs/sample"])

    @task(2)
    def sweep(self) -> None:
        self._post("/v1/sweeps", BODIES["/v1/sweeps"])

    @task(2)
    def abilities(self) -> None:
        self._post("/v1/abilities/simulate", BODIES["/v1/abilities/simulate"])

    @task(2)
    def fits(self) -> None:
        path = random.choice(
            ["/v1/fits/power-law", "/v1/fits/scaling-law", "/v1/fits/broken-power-law"]
        )
        self._post(path, BODIES[path])

    @task(1)
    def emergence(self) -> None:
        self._post("/v1/fits/emergence", BODIES["/v1/fits/emergence"])

    @task(1)
    def mirage(self) -> None:
        self._post("/v1/abilities/analyze", BODIES["/v1/abilities/analyze"])

    @task(1)
    def critical_point(self) -> None:
        self._post(CRITICAL_POINT, self.critical_point)

    @task(1)
    def info(self) -> None:
        self.client.get("/v1/info")


class SeededGatewayUser(_GatewayUser):
    weight = 2


class UnseededGatewayUser(_GatewayUser):
    weight = 1
    seeded = False


class LocustInterceptor(grpc.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    """Reports every unary call to Locust's statistics (Locust's gRPC recipe)."""

    def __init__(self, environment: Environment) -> None:
        self.env = environment

    def intercept_unary_unary(
        self, continuation: Callable[..., Any], client_call_details: Any, request: Any
    ) -> Any:
        started = time.perf_counter()
        response, exception, length = None, None, 0
        try:
            response = continuation(client_call_details, request)
            length = response.result().ByteSize()
        except grpc.RpcError as exc:
            exception = exc
        self.env.events.request.fire(
            request_type="grpc",
            name=client_call_details.method,
            response_time=(time.perf_counter() - started) * 1000,
            response_length=length,
            response=response,
            context=None,
            exception=exception,
        )
        return response


class SimulationGrpcUser(User):
    """The engine without the gateway: SampleGraph (unary) and Sweep (server stream)."""

    weight = 1
    wait_time = between(0.1, 0.5)
    # Not ``host``: Locust sets that from --host (the gateway URL) on every user class.
    target = os.environ.get("ZUHUR_LOAD_SIMULATION_TARGET", "127.0.0.1:50051")

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        channel = grpc.intercept_channel(
            grpc.insecure_channel(self.target), LocustInterceptor(environment)
        )
        self.stub = simulation_pb2_grpc.SimulationStub(channel)

    @contextmanager
    def _timed(self, name: str) -> Iterator[None]:
        """Report a streamed call (the interceptor covers unary ones) from start to last event."""
        started, exception = time.perf_counter(), None
        try:
            yield
        except grpc.RpcError as exc:
            exception = exc
        events.request.fire(
            request_type="grpc",
            name=name,
            response_time=(time.perf_counter() - started) * 1000,
            response_length=0,
            exception=exception,
        )

    @task(3)
    def sample_graph(self) -> None:
        self.stub.SampleGraph(
            pb.SampleGraphRequest(model="erdos_renyi", n=20_000, c=2.0, replicates=2), timeout=60
        )

    @task(1)
    def sweep(self) -> None:
        request = pb.SweepRequest(model="erdos_renyi", n=20_000, replicates=4)
        request.grid.start, request.grid.stop, request.grid.points = 0.0, 4.0, 20
        with self._timed("/zuhur.v1.Simulation/Sweep"):
            for _ in self.stub.Sweep(request, timeout=60):
                pass
