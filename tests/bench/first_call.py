"""First-request latency of every gateway route right after the stack reports ready, against
the second identical request: a first call that pays a JIT compile (or any lazy set-up) shows
up as a ratio far above 1. Target: first within 2x the second.

    make up &   # or any running stack
    .venv/bin/python -m tests.bench.first_call --url http://127.0.0.1:8000

Requests carry no seed, so neither call is a Redis hit (same work, fresh randomness).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import httpx

from deploy.load.bodies import BODIES, CRITICAL_POINT, CRITICAL_POINT_SWEEPS, critical_point_body

TARGET_RATIO = 2.0


def timed(client: httpx.Client, method: str, path: str, body: Any = None) -> float:
    """Seconds one request took; fails loudly on a non-200."""
    started = time.perf_counter()
    reply = client.request(method, path, json=body)
    elapsed = time.perf_counter() - started
    reply.raise_for_status()
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    args = parser.parse_args()
    rows: list[tuple[str, float, float]] = []
    with httpx.Client(base_url=args.url, timeout=300) as client:
        calls: list[tuple[str, str, Any]] = [("GET", "/v1/info", None)]
        calls += [("POST", path, body) for path, body in BODIES.items()]
        for method, path, body in calls:
            rows.append(
                (path, timed(client, method, path, body), timed(client, method, path, body))
            )
        sweeps = [client.post("/v1/sweeps", json=b).json() for b in CRITICAL_POINT_SWEEPS]
        body = critical_point_body(sweeps)
        rows.append(
            (CRITICAL_POINT, timed(client, "POST", CRITICAL_POINT, body),
             timed(client, "POST", CRITICAL_POINT, body))
        )  # fmt: skip
    print(
        f"{'route':<28}{'first ms':>10}{'second ms':>11}{'ratio':>8}  target <= {TARGET_RATIO:g}x"
    )
    slow = 0
    for path, first, second in rows:
        ratio = first / second
        slow += ratio > TARGET_RATIO
        flag = "" if ratio <= TARGET_RATIO else "  ABOVE TARGET"
        print(f"{path:<28}{first * 1e3:>10.1f}{second * 1e3:>11.1f}{ratio:>8.2f}{flag}")
    print(f"{len(rows) - slow} of {len(rows)} routes within {TARGET_RATIO:g}x")
    return 1 if slow else 0


if __name__ == "__main__":
    raise SystemExit(main())
