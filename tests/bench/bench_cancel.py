"""Cancel latency and progress cadence of sweeps at the largest allowed sizes (issue 9).

    .venv/bin/python -m tests.bench.bench_cancel [--watch 4]

Starts the real simulation service (tests.integration.stack) and, for each case, streams
a sweep at the configured limits for --watch seconds, then cancels the call and times
how long the service takes to stop (its in-flight gauge back to 0). Prints the progress
events seen (time, fraction) so the cadence and the first event's latency show too.
"""

from __future__ import annotations

import argparse
import itertools
import os
import tempfile
import time
from pathlib import Path

import grpc

from tests.integration.stack import ROOT, Stack, stack_ports, wait_serving
from zuhur.v1 import simulation_pb2, simulation_pb2_grpc

# Just inside DEFAULT_LIMITS: 10^8 expected edges a realization, 2^24 convolution weights.
CASES: dict[str, tuple[dict[str, object], tuple[float, float, int]]] = {
    "ER n=2e7, c <= 9.9 (1e8 pairs a pass), 16 reps": (
        {"model": "erdos_renyi", "n": 20_000_000, "replicates": 16},
        (0.0, 9.9, 50),
    ),
    "G(n,m) n=2e7, c <= 9.9 (1e8 edges drawn first), 8 reps": (
        {"model": "erdos_renyi_gnm", "n": 20_000_000, "replicates": 8},
        (0.0, 9.9, 50),
    ),
    "bond lattice L=4096, 16 reps": (
        {"model": "square_lattice_bond", "L": 4096, "replicates": 16},
        (0.3, 0.7, 50),
    ),
}


def measure(stack: Stack, watch: float) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{stack.ports['simulation']}") as channel:
        stub = simulation_pb2_grpc.SimulationStub(channel)
        for name, (fields, (start, stop, points)) in CASES.items():
            request = simulation_pb2.SweepRequest(**fields, seed=1)  # type: ignore[arg-type]
            request.grid.start, request.grid.stop, request.grid.points = start, stop, points
            began = time.perf_counter()
            stream = stub.Sweep(request, timeout=600)
            seen = []
            for event in stream:
                seen.append((time.perf_counter() - began, event.progress.fraction))
                if seen[-1][0] > watch:
                    break
            cancelled = time.perf_counter()
            stream.cancel()
            while stack.in_flight() > 0:
                time.sleep(0.005)
            gaps = [b[0] - a[0] for a, b in itertools.pairwise(seen)]
            print(
                f"{name}: cancel -> in-flight 0 in {time.perf_counter() - cancelled:.3f} s; "
                f"first event {seen[0][0]:.3f} s, {len(seen)} events, max gap {max(gaps):.3f} s, "
                f"fraction {seen[-1][1]:.4f} after {seen[-1][0]:.1f} s",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--watch", type=float, default=4.0, help="seconds before cancelling")
    args = parser.parse_args()
    cache = Path(os.environ.get("NUMBA_CACHE_DIR", ROOT / ".numba_cache"))
    with tempfile.TemporaryDirectory() as logs:
        stack = Stack(Path(logs), cache, ports=stack_ports())
        stack.start("simulation")
        try:
            wait_serving(stack.ports["simulation"], "zuhur.v1.Simulation")
            measure(stack, args.watch)
        finally:
            stack.close()


if __name__ == "__main__":
    main()
