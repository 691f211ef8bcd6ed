"""Where a cached hit's CPU goes: the gateway app driven in this process (no sockets, no
HTTP parser), a real redis-server, the in-process upstream (asked only for its engine
version), against the bare FastAPI peer of bench_hot_path on the same ASGI calls.

    .venv/bin/python -m tests.bench.profile_hot_path [--requests 4000] [--concurrency 64]

Prints both sides' in-process requests/s (their ratio bounds what any server can give: the
HTTP server's own cost is the same on both sides) and, under cProfile, the share of the
gateway's time spent in each part of the hit path (each middleware layer's own work,
routing, FastAPI's request handling, validation, the cache key, Redis, the HMAC check).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from gateway.core.config import Settings
from gateway.jobs.config import JobSettings
from gateway.main import create_app
from tests.bench.bare_app import create_app as create_bare
from tests.integration.inprocess import Upstream, redis_server, upstream_server
from tests.integration.stack import free_port

BODY = json.dumps(
    {"model": "erdos_renyi", "n": 100_000, "c": 2.0, "replicates": 4, "seed": 20261129}
).encode()
PATH = "/v1/graphs/sample"
ASGI = Callable[[dict[str, Any], Any, Any], Awaitable[None]]

# Parts of a hit, by where a function lives: (part, path fragments); the first match wins.
# A C function (socket calls, hashing, pydantic-core) counts for the part of its caller.
PARTS: list[tuple[str, tuple[str, ...]]] = [
    ("request id + access log", ("gateway/core/requestid.py", "/logging/", "uuid.py")),
    ("HTTP metrics (prometheus_client)", ("gateway/core/metrics.py", "prometheus_client")),
    ("API keys", ("gateway/core/auth.py",)),
    ("quotas", ("gateway/core/quotas.py", "/limits/")),
    ("body limit", ("gateway/core/bodylimit.py",)),
    ("hot path (gateway/api/hit_path.py)", ("gateway/api/hit_path.py",)),
    ("FastAPI/Starlette: routing, handler, errors layers",
     ("fastapi/routing.py", "starlette/", "fastapi/applications.py", "fastapi/middleware",
      "fastapi/telemetry", "fastapi/_body_limit", "/json/", "email/")),
    ("FastAPI dependency solving", ("fastapi/dependencies",)),
    ("pydantic validation + model_dump", ("pydantic",)),
    ("proto message build + cache key", ("gateway/core/protojson.py", "google/protobuf",
                                         "gateway/api/cached_call.py")),
    ("cache lookup + HMAC check (gateway/core/cache.py)",
     ("gateway/core/cache.py", "gateway/core/integrity.py", "hmac.py", "cachetools")),
    ("Redis client (redis-py) + socket I/O", ("/redis/", "asyncio/streams.py",
                                              "asyncio/selector_events.py")),
    ("event loop (tasks, timers, selector)", ("asyncio/", "selectors.py")),
]  # fmt: skip


def scope() -> dict[str, Any]:
    """The ASGI scope uvicorn would hand over for the benchmark's POST."""
    headers = [(b"host", b"bench"), (b"content-type", b"application/json"),
               (b"content-length", str(len(BODY)).encode())]  # fmt: skip
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": "POST", "scheme": "http", "path": PATH, "raw_path": PATH.encode(),
            "root_path": "", "query_string": b"", "headers": headers,
            "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8000), "state": {}}  # fmt: skip


async def one(app: ASGI) -> tuple[int, bytes]:
    """One request through ``app``: (status, X-Cache)."""
    sent = False
    never = asyncio.Event()
    status, cache = 0, b""

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": BODY, "more_body": False}
        await never.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, cache
        if message["type"] == "http.response.start":
            status = message["status"]
            cache = dict(message["headers"]).get(b"x-cache", b"")

    await app(scope(), receive, send)
    return status, cache


async def drive(app: ASGI, requests: int, concurrency: int) -> tuple[float, float]:
    """(requests/s, CPU microseconds per request) of ``requests`` calls, ``concurrency`` at
    a time; every one must be a hit. The CPU time is the steadier figure on a shared machine."""
    each = requests // concurrency

    async def client() -> None:
        for _ in range(each):
            status, cache = await one(app)
            assert (status, cache) == (200, b"HIT"), (status, cache)

    start, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    done = each * concurrency
    return done / (time.perf_counter() - start), (time.process_time() - cpu) * 1e6 / done


def part_of(func: tuple[str, int, str], stats: dict[Any, Any], depth: int = 0) -> str:
    """The part a function belongs to (a C function: its main caller's part)."""
    filename = func[0]
    if filename == "~" and depth < 8:
        callers = stats[func][4]
        if callers:
            caller = max(callers, key=lambda c: callers[c][2] if len(callers[c]) > 2 else 0)
            return part_of(caller, stats, depth + 1)
    for part, fragments in PARTS:
        if any(f in filename for f in fragments):
            return part
    return "other (the driver, the rest)"


def shares(profile: cProfile.Profile) -> list[tuple[str, float]]:
    """(part, share of the profiled time) for each part, largest first."""
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    own: dict[str, float] = {}
    for func, (_, _, tottime, _, _) in stats.items():
        part = part_of(func, stats)
        own[part] = own.get(part, 0.0) + tottime
    total = sum(own.values())
    return sorted(((p, t / total) for p, t in own.items()), key=lambda row: -row[1])


async def main(args: argparse.Namespace) -> None:
    overrides = {} if args.near_cache_seconds is None else {
        "near_cache_seconds": args.near_cache_seconds}  # fmt: skip
    rates: dict[str, list[tuple[float, float]]] = {"gateway": [], "bare": []}
    profile = cProfile.Profile()
    with redis_server() as redis_url, tempfile.TemporaryDirectory() as tmp:
        async with upstream_server(Upstream()) as port:
            settings = Settings(simulation_target=f"127.0.0.1:{port}", redis_url=redis_url,
                                fitting_target=f"127.0.0.1:{free_port()}", **overrides)  # fmt: skip
            app = create_app(settings, JobSettings(redis_url=redis_url))
            async with app.router.lifespan_context(app):
                status, cache = await one(app)  # the miss that stores the result
                assert status == 200 and cache == b"MISS", (status, cache)
                body_file = Path(tmp) / "body.json"
                body_file.write_bytes(b"{}")
                os.environ["ZUHUR_BENCH_BODY_FILE"] = str(body_file)
                bare = create_bare()
                await drive(app, 512, args.concurrency)  # warm both
                await drive(bare, 512, args.concurrency)
                for _ in range(args.rounds):
                    rates["gateway"].append(await drive(app, args.requests, args.concurrency))
                    rates["bare"].append(await drive(bare, args.requests, args.concurrency))
                profile.enable()
                await drive(app, args.requests, args.concurrency)
                profile.disable()
    (gw, gw_cpu), (peer, peer_cpu) = max(rates["gateway"]), max(rates["bare"])
    print(f"in-process, {args.concurrency} at a time, best of {args.rounds}:\n"
          f"  gateway hit   {gw:>7.0f} req/s  {gw_cpu:>6.0f} us CPU per request\n"
          f"  bare FastAPI  {peer:>7.0f} req/s  {peer_cpu:>6.0f} us CPU per request\n"
          f"  gateway / bare: throughput {gw / peer:.2f}, "
          f"CPU per request {gw_cpu / peer_cpu:.2f}")  # fmt: skip
    print(f"\n{'part of the hit (share of profiled time)':<56} {'share':>6}")
    for part, share in shares(profile):
        print(f"{part:<56} {share:>6.1%}")
    if args.top:
        pstats.Stats(profile).sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4096)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--top", type=int, default=0, help="also print the top N functions")
    parser.add_argument("--near-cache-seconds", type=float, default=None,
                        help="the gateway's near cache (0: every hit asks Redis)")  # fmt: skip
    asyncio.run(main(parser.parse_args()))
