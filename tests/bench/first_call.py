"""First-request latency of every gateway route right after the stack reports ready, against
the second request of the same work: a first call that pays a JIT compile (or any lazy
set-up) shows up as a ratio far above 1. Target: first within 2x the second.

    make up &   # or any running stack, freshly started
    .venv/bin/python -m tests.bench.first_call --url http://127.0.0.1:8000

Neither call may be a Redis hit: requests carry no seed (random results are not cached), and
the second call of a deterministic route has its first number nudged by 1e-12 (relative), so
it has another cache key but the same work. The X-Cache column shows both.
"""

from __future__ import annotations

import argparse
import copy
import time
from typing import Any

import httpx

from deploy.load.bodies import BODIES, CRITICAL_POINT, CRITICAL_POINT_SWEEPS, critical_point_body

TARGET_RATIO = 2.0


def nudged(body: Any) -> Any:
    """``body`` with its first float (depth first) times (1 + 1e-12): a new cache key."""
    body = copy.deepcopy(body)

    def visit(node: Any) -> bool:
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in list(items):
            if isinstance(value, float) and value != 0.0:
                node[key] = value * (1 + 1e-12)
                return True
            if isinstance(value, dict | list) and visit(value):
                return True
        return False

    visit(body)
    return body


def timed(client: httpx.Client, method: str, path: str, body: Any) -> tuple[float, str]:
    """Seconds one request took and its X-Cache status; fails loudly on a non-200."""
    started = time.perf_counter()
    reply = client.request(method, path, json=body)
    elapsed = time.perf_counter() - started
    reply.raise_for_status()
    return elapsed, reply.headers.get("X-Cache", "-")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    args = parser.parse_args()
    rows: list[tuple[str, tuple[float, str], tuple[float, str]]] = []
    with httpx.Client(base_url=args.url, timeout=300) as client:
        calls: list[tuple[str, str, Any]] = [("GET", "/v1/info", None)]
        calls += [("POST", path, body) for path, body in BODIES.items()]
        for method, path, body in calls:
            first = timed(client, method, path, body)
            rows.append((path, first, timed(client, method, path, body and nudged(body))))
        sweeps = [client.post("/v1/sweeps", json=b).json() for b in CRITICAL_POINT_SWEEPS]
        body = critical_point_body(sweeps)
        first = timed(client, "POST", CRITICAL_POINT, body)
        rows.append((CRITICAL_POINT, first, timed(client, "POST", CRITICAL_POINT, nudged(body))))
    print(f"{'route':<28}{'first ms':>10}{'second ms':>11}{'ratio':>8}  X-Cache  (target <= 2x)")
    slow = 0
    for path, (first, c1), (second, c2) in rows:
        ratio = first / second
        slow += ratio > TARGET_RATIO
        flag = "" if ratio <= TARGET_RATIO else "  ABOVE TARGET"
        line = f"{path:<28}{first * 1e3:>10.1f}{second * 1e3:>11.1f}{ratio:>8.2f}"
        print(f"{line}  {c1}/{c2}{flag}")
    print(f"{len(rows) - slow} of {len(rows)} routes within {TARGET_RATIO:g}x")
    return 1 if slow else 0


if __name__ == "__main__":
    raise SystemExit(main())
