"""What gRPC and HTTP add on top of the kernels, measured in one run (issue 3, Speed).

    .venv/bin/python -m tests.bench.bench_overhead [--repeat 5]

Starts the real stack (tests.integration.stack: redis-server, services, gateway on free
loopback ports), then times the same work three ways: the plain science call in this
process, the gRPC call to the simulation service, and POST to the gateway (unseeded, so
never a cache hit), plus a cached gateway hit. Best of --repeat runs, wall clock.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import grpc
import httpx

from services.simulation.graphs import sample_graph
from services.simulation.sweeps import Grid, sweep
from tests.bench.timing import best_of
from tests.integration.stack import ROOT, start_stack
from zuhur.v1 import simulation_pb2 as pb
from zuhur.v1 import simulation_pb2_grpc

SAMPLE = {"model": "erdos_renyi", "n": 1_000_000, "c": 2.0, "replicates": 1}
TINY = {"model": "erdos_renyi", "n": 100, "c": 2.0, "replicates": 1}  # fixed per-call cost
SWEEP = {"model": "erdos_renyi", "n": 100_000, "replicates": 20}
GRID = {"start": 0.0, "stop": 4.0, "points": 50}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    seeds = iter(range(1, 10**6))
    workers = os.cpu_count() or 1  # the service runs replicates on one thread per core

    with tempfile.TemporaryDirectory() as tmp:
        stack = start_stack(Path(tmp), ROOT / ".numba_cache")
        try:
            channel = grpc.insecure_channel(f"127.0.0.1:{stack.ports['simulation']}")
            stub = simulation_pb2_grpc.SimulationStub(channel)
            http = httpx.Client(base_url=stack.url, timeout=120)
            sweep_request = pb.SweepRequest(**SWEEP, grid=pb.Grid(**GRID))
            cached = {**SAMPLE, "seed": 424242}
            http.post("/v1/graphs/sample", json=cached)  # store it once
            cached_sweep = {**SWEEP, "grid": GRID, "seed": 424242}
            http.post("/v1/sweeps", json=cached_sweep)
            rows = [
                (
                    "ER sample n=100",
                    best_of(lambda: sample_graph(**TINY, seed=next(seeds)), args.repeat),
                    best_of(lambda: stub.SampleGraph(pb.SampleGraphRequest(**TINY)), args.repeat),
                    best_of(lambda: http.post("/v1/graphs/sample", json=TINY), args.repeat),
                    best_of(
                        lambda: http.post("/v1/graphs/sample", json={**TINY, "seed": 1}),
                        args.repeat,
                    ),
                ),
                (
                    "ER sample n=1e6 c=2",
                    best_of(lambda: sample_graph(**SAMPLE, seed=next(seeds)), args.repeat),
                    best_of(lambda: stub.SampleGraph(pb.SampleGraphRequest(**SAMPLE)), args.repeat),
                    best_of(lambda: http.post("/v1/graphs/sample", json=SAMPLE), args.repeat),
                    best_of(lambda: http.post("/v1/graphs/sample", json=cached), args.repeat),
                ),
                (
                    "sweep n=1e5 50x20",
                    best_of(
                        lambda: sweep(
                            **SWEEP, grid=Grid(**GRID), seed=next(seeds), max_workers=workers
                        ),
                        args.repeat,
                    ),
                    best_of(lambda: list(stub.Sweep(sweep_request)), args.repeat),
                    best_of(
                        lambda: http.post("/v1/sweeps", json={**SWEEP, "grid": GRID}), args.repeat
                    ),
                    best_of(lambda: http.post("/v1/sweeps", json=cached_sweep), args.repeat),
                ),
            ]
            channel.close()
            http.close()
        finally:
            stack.close()

    heads = ("kernel", "gRPC", "HTTP", "+gRPC", "+HTTP", "HTTP hit")
    print(f"{'work':<22}" + "".join(f"{h:>10}" for h in heads))
    for name, kernel, rpc, rest, hit in rows:
        print(
            f"{name:<22}{kernel * 1e3:>8.1f}ms{rpc * 1e3:>8.1f}ms{rest * 1e3:>8.1f}ms"
            f"{(rpc - kernel) * 1e3:>8.1f}ms{(rest - rpc) * 1e3:>8.1f}ms{hit * 1e3:>8.1f}ms"
        )
    print("kernel: the science call in this process, on as many threads as the service uses;")
    print("+gRPC: service over kernel; +HTTP: gateway")
    print("over gRPC (unseeded, so computed); HTTP hit: the same request served from Redis.")


if __name__ == "__main__":
    main()
