"""Job latencies through the real stack (issue 9): submission to the first SSE progress
event, and DELETE to the simulation service's in-flight gauge reaching 0.

    .venv/bin/python -m tests.bench.bench_jobs [--repeat 5]

Starts the stack with the jobs Redis and one worker (tests.integration.stack), then per
repeat submits an unseeded sweep (so never a cache hit), reads its SSE stream until the
first progress event and the first with work done, then submits another, cancels it once
the service is computing it and times how long until the service's gauge says 0.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from tests.integration.jobs_client import metric, sse_events, submit, wait_until
from tests.integration.stack import ROOT, Stack, start_stack

SWEEP = {
    "model": "erdos_renyi",
    "n": 300000,
    "grid": {"start": 0.0, "stop": 4.0, "points": 20},
    "replicates": 48,
}
IN_FLIGHT = "zuhur_grpc_server_in_flight_requests"


def first_progress(stack: Stack) -> tuple[float, float]:
    """Seconds from POST to the first progress event, and to the first with done > 0."""
    start = time.monotonic()
    job = submit(stack.url, "sweep", SWEEP)
    first = None
    for event, data, _ in sse_events(stack.url, job["id"]):
        if event == "progress":
            first = first or time.monotonic() - start
            if data["done"] > 0:
                httpx.delete(f"{stack.url}/v1/jobs/{job['id']}")
                wait_until(stack.url, job["id"])
                return first, time.monotonic() - start
    raise RuntimeError(f"no progress with work done for {job['id']}")


def cancel_latency(stack: Stack) -> float:
    """Seconds from DELETE to the simulation service holding no request."""
    port = stack.ports["simulation_metrics"]
    job = submit(stack.url, "sweep", SWEEP)
    while metric(port, IN_FLIGHT) < 1:
        time.sleep(0.02)
    start = time.monotonic()
    httpx.delete(f"{stack.url}/v1/jobs/{job['id']}")
    while metric(port, IN_FLIGHT) > 0:
        time.sleep(0.01)
    latency = time.monotonic() - start
    wait_until(stack.url, job["id"])
    return latency


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    cache = Path(os.environ.get("NUMBA_CACHE_DIR", ROOT / ".numba_cache"))
    with tempfile.TemporaryDirectory() as tmp:
        stack = start_stack(Path(tmp), cache, jobs=True)
        try:
            progress = [first_progress(stack) for _ in range(args.repeat)]
            cancels = [cancel_latency(stack) for _ in range(args.repeat)]
        finally:
            stack.close()
    for name, values in (
        ("submission -> first progress event", [p[0] for p in progress]),
        ("submission -> first progress with work done", [p[1] for p in progress]),
        ("DELETE -> simulation in-flight 0", cancels),
    ):
        print(
            f"{name}: median {statistics.median(values):.3f} s, max {max(values):.3f} s "
            f"over {len(values)}"
        )


if __name__ == "__main__":
    main()
