"""What tracing and the access log cost per request, measured on three real stacks at once.

``quiet``: no OTLP endpoint, access log off (ZUHUR_GATEWAY_ACCESS_LOG=false) — the floor;
``off``: the default, tracing off and one access line per request;
``on``: tracing to an in-process OTLP collector, JSON logs.
Requests alternate between the stacks (same machine noise for all three): a cached hit and a
small seeded compute (a new seed each time: cache miss, one gRPC call, Redis get/lock/set).
Prints median and p90 latency per stack and the ratio to ``quiet``.

    .venv/bin/python -m tests.bench.bench_telemetry [rounds]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tests.integration.otlp import Collector
from tests.integration.stack import ROOT, Stack, start_stack


def body(seed: int) -> dict[str, object]:
    return {"model": "erdos_renyi", "n": 1000, "c": 2.0, "replicates": 1, "seed": seed}


def timed(client: httpx.Client, url: str, seed: int) -> float:
    start = time.perf_counter()
    reply = client.post(f"{url}/v1/graphs/sample", json=body(seed))
    took = time.perf_counter() - start
    reply.raise_for_status()
    return took


def main(rounds: int) -> None:
    cache = Path(os.environ.get("NUMBA_CACHE_DIR", ROOT / ".numba_cache"))
    collector = Collector()
    configs = {
        "quiet": {"ZUHUR_GATEWAY_ACCESS_LOG": "false"},
        "off": {},
        "on": {
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "500",
            "ZUHUR_LOG_FORMAT": "json",
        },
    }
    stacks: dict[str, Stack] = {}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            for name, env in configs.items():
                stacks[name] = start_stack(Path(tmp) / name, cache, **env)
            clients = {name: httpx.Client(timeout=60) for name in stacks}
            samples: dict[tuple[str, str], list[float]] = {}
            for name, stack in stacks.items():  # warm: connections, engine version, the hit
                for _ in range(5):
                    timed(clients[name], stack.url, 1)
            for r in range(rounds):
                for name, stack in stacks.items():
                    hit = timed(clients[name], stack.url, 1)
                    miss = timed(clients[name], stack.url, 1_000_000 + r)
                    samples.setdefault((name, "hit"), []).append(hit)
                    samples.setdefault((name, "miss"), []).append(miss)
            print(f"{rounds} rounds; spans received by the collector: {len(collector.spans)}")
            print(f"{'stack':6} {'path':5} {'median ms':>10} {'p90 ms':>8} {'median / quiet':>15}")
            for kind in ("hit", "miss"):
                floor = statistics.median(samples[("quiet", kind)])
                for name in stacks:
                    xs = sorted(samples[(name, kind)])
                    median, p90 = statistics.median(xs), xs[int(0.9 * (len(xs) - 1))]
                    print(
                        f"{name:6} {kind:5} {median * 1e3:10.2f} {p90 * 1e3:8.2f} "
                        f"{median / floor:15.3f}"
                    )
        finally:
            for stack in stacks.values():
                stack.close()
            collector.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
