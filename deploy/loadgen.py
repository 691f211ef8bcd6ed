"""Bounded load generator for the simulation engine over gRPC.

Sends a weighted mix of requests with a fixed concurrency until ``--requests`` are done or
``--duration`` seconds pass (whichever first; both are always bounded), then prints
throughput, latency percentiles and errors by status code, overall and per request kind.

    python -m deploy.loadgen --target 127.0.0.1:50051 --requests 200 --concurrency 4 \\
        --mix sample_small=3,sample_large=1,sweep=1
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
import numpy as np

from zuhur.v1 import simulation_pb2 as pb
from zuhur.v1 import simulation_pb2_grpc

MAX_REQUESTS = 100_000
MAX_DURATION_S = 600.0


def _sample(n: int, c: float, replicates: int) -> Callable[[int], Any]:
    return lambda seed: pb.SampleGraphRequest(
        model="erdos_renyi", n=n, c=c, replicates=replicates, seed=seed
    )


def _sweep(n: int, points: int, replicates: int) -> Callable[[int], Any]:
    def build(seed: int) -> Any:
        request = pb.SweepRequest(model="erdos_renyi", n=n, replicates=replicates, seed=seed)
        request.grid.start, request.grid.stop, request.grid.points = 0.0, 4.0, points
        return request

    return build


# name -> (RPC, request builder from a seed)
SCENARIOS: dict[str, tuple[str, Callable[[int], Any]]] = {
    "sample_small": ("SampleGraph", _sample(10_000, 2.0, 4)),
    "sample_large": ("SampleGraph", _sample(1_000_000, 2.0, 1)),
    "sweep": ("Sweep", _sweep(100_000, 50, 20)),
    "sweep_small": ("Sweep", _sweep(10_000, 20, 10)),
}


@dataclass
class Results:
    """Latencies (seconds) and status codes, per scenario."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    codes: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))


def parse_mix(text: str) -> dict[str, float]:
    mix: dict[str, float] = {}
    for part in text.split(","):
        name, _, weight = part.partition("=")
        if name not in SCENARIOS:
            raise SystemExit(f"--mix: unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
        mix[name] = float(weight or 1)
    return mix


async def _call(stub: Any, rpc: str, request: Any, timeout: float) -> None:
    if rpc == "Sweep":
        async for _ in stub.Sweep(request, timeout=timeout):
            pass
    else:
        await getattr(stub, rpc)(request, timeout=timeout)


async def run(args: argparse.Namespace) -> tuple[Results, float]:
    mix = parse_mix(args.mix)
    names, weights = list(mix), list(mix.values())
    rng = random.Random(args.seed)
    plan = rng.choices(names, weights, k=args.requests)
    results = Results()
    deadline = time.monotonic() + args.duration
    queue: asyncio.Queue[str] = asyncio.Queue()
    for name in plan:
        queue.put_nowait(name)

    async with grpc.aio.insecure_channel(args.target) as channel:
        stub = simulation_pb2_grpc.SimulationStub(channel)

        async def worker() -> None:
            while time.monotonic() < deadline:
                try:
                    name = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                rpc, build = SCENARIOS[name]
                start = time.perf_counter()
                code = "OK"
                try:
                    await _call(stub, rpc, build(rng.getrandbits(53)), args.timeout)
                except grpc.aio.AioRpcError as exc:
                    code = exc.code().name
                results.latencies[name].append(time.perf_counter() - start)
                results.codes[name][code] += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(args.concurrency)))
        return results, time.perf_counter() - started


def report(results: Results, elapsed: float) -> str:
    """The summary table: one row per scenario and a total."""
    lines = [
        f"{'scenario':<14}{'requests':>9}{'ok':>7}{'errors':>8}{'req/s':>9}"
        f"{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}  error codes"
    ]
    rows = {**results.latencies, "TOTAL": [x for v in results.latencies.values() for x in v]}
    for name, lat in rows.items():
        codes = sum(results.codes.values(), Counter()) if name == "TOTAL" else results.codes[name]
        ok = codes.get("OK", 0)
        errors = {k: v for k, v in codes.items() if k != "OK"}
        p50, p95, p99 = (np.percentile(lat, [50, 95, 99]) * 1000) if lat else (0, 0, 0)
        lines.append(
            f"{name:<14}{len(lat):>9}{ok:>7}{len(lat) - ok:>8}{len(lat) / elapsed:>9.1f}"
            f"{p50:>10.1f}{p95:>10.1f}{p99:>10.1f}  {errors or ''}"
        )
    lines.append(f"elapsed {elapsed:.2f} s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="127.0.0.1:50051")
    parser.add_argument("--mix", default="sample_small=3,sample_large=1,sweep_small=1")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--duration", type=float, default=60.0, help="stop after this long")
    parser.add_argument("--timeout", type=float, default=60.0, help="deadline per request")
    parser.add_argument("--seed", type=int, default=0, help="seed of the mix and request seeds")
    args = parser.parse_args(argv)
    if not 1 <= args.requests <= MAX_REQUESTS:
        parser.error(f"--requests must be in [1, {MAX_REQUESTS}]")
    if not 0 < args.duration <= MAX_DURATION_S:
        parser.error(f"--duration must be in (0, {MAX_DURATION_S:g}]")
    if not 1 <= args.concurrency <= 256:
        parser.error("--concurrency must be in [1, 256]")
    results, elapsed = asyncio.run(run(args))
    print(report(results, elapsed))


if __name__ == "__main__":
    main()
