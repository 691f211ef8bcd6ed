"""The gateway's cached-call path in one process: cache bytes and key, single flight across
two workers, NDJSON, and the mapping of upstream errors (see ``inprocess``). Seconds, not a
stack: the app runs under httpx's ASGITransport, the upstream is grpc.aio on loopback and
the cache a real redis-server."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from typing import Any
from unittest import mock

import pytest
import redis

from gateway.core.config import Settings
from gateway.core.integrity import verify
from tests.integration.inprocess import (
    BAD_SEED,
    BUSY_SEED,
    DIES_SEED,
    ENGINE,
    SWEEP_STEPS,
    Upstream,
    expected_curve,
    expected_sample,
    gateway,
    redis_server,
    upstream_server,
)
from tests.integration.stack import free_port
from zuhur.v1 import simulation_pb2

SAMPLE = {"model": "erdos_renyi", "n": 1000, "c": 2.0, "replicates": 2, "seed": 7}
SWEEP = {"model": "erdos_renyi", "n": 1000, "grid": {"start": 0, "stop": 2, "points": 3}}
SWEEP = {**SWEEP, "replicates": 2, "seed": 5}
Scenario = Callable[[Any, Upstream, str], Awaitable[None]]


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture
def run(redis_url: str) -> Callable[[Scenario], None]:
    """Run ``scenario(client, upstream, redis_url)`` against a fresh gateway on an empty cache."""
    redis.Redis.from_url(redis_url).flushall()

    def go(scenario: Scenario) -> None:
        async def main() -> None:
            upstream = Upstream()
            async with upstream_server(upstream) as port, gateway(redis_url, port) as client:
                await scenario(client, upstream, redis_url)

        asyncio.run(main())

    return go


def test_a_hit_returns_the_stored_response_bytes_under_the_proto_key(run: Any) -> None:
    async def scenario(client: Any, upstream: Upstream, redis_url: str) -> None:
        miss = await client.post("/v1/graphs/sample", json=SAMPLE)
        reordered = dict(reversed(list(SAMPLE.items())))  # JSON key order is not the key
        hit = await client.post("/v1/graphs/sample", json=reordered)
        assert (miss.status_code, miss.headers["x-cache"]) == (200, "MISS")
        assert (hit.status_code, hit.headers["x-cache"]) == (200, "HIT")
        assert hit.content == miss.content
        assert upstream.calls["SampleGraph"] == 1
        request = simulation_pb2.SampleGraphRequest(**SAMPLE)
        assert miss.json() == {**expected_sample(request), "replicates": []}  # none sent
        # The key, computed here from the deterministic proto bytes; the value, the body.
        proto = request.SerializeToString(deterministic=True)
        digest = hashlib.sha256(b"zuhur.v1.Simulation/SampleGraph\0" + proto).hexdigest()
        key = f"zuhur:v{Settings().cache_schema}:{ENGINE}:{digest}"
        store = redis.Redis.from_url(redis_url)
        assert (
            verify(Settings().cache_hmac_key.encode(), store.get(key), key.encode()) == miss.content
        )
        assert 0 < store.ttl(key) <= Settings().cache_ttl_seconds

    run(scenario)


def test_no_cache_recomputes_and_unseeded_requests_are_not_cached(run: Any) -> None:
    async def scenario(client: Any, upstream: Upstream, redis_url: str) -> None:
        await client.post("/v1/graphs/sample", json=SAMPLE)
        fresh = await client.post(
            "/v1/graphs/sample", json=SAMPLE, headers={"Cache-Control": "no-cache"}
        )
        assert fresh.headers["x-cache"] == "BYPASS"
        unseeded = {k: v for k, v in SAMPLE.items() if k != "seed"}
        first = await client.post("/v1/graphs/sample", json=unseeded)
        again = await client.post("/v1/graphs/sample", json=unseeded)
        assert [first.headers["x-cache"], again.headers["x-cache"]] == ["BYPASS", "BYPASS"]
        assert upstream.calls["SampleGraph"] == 4

    run(scenario)


def test_single_flight_holds_across_two_gateway_workers(redis_url: str) -> None:
    """Two apps on one Redis (as two uvicorn workers): 8 identical requests, split between
    them while the upstream holds the first, cost one upstream call and get the same bytes."""
    redis.Redis.from_url(redis_url).flushall()

    async def main() -> None:
        upstream = Upstream()
        upstream.gate.clear()
        async with (
            upstream_server(upstream) as port,
            gateway(redis_url, port) as one,
            gateway(redis_url, port) as two,
        ):
            pending = [
                asyncio.create_task(c.post("/v1/graphs/sample", json=SAMPLE))
                for c in (one, two) * 4
            ]
            while upstream.calls["SampleGraph"] == 0:
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.3)  # every other request is waiting on the lock by now
            assert upstream.calls["SampleGraph"] == 1
            upstream.gate.set()
            replies = await asyncio.gather(*pending)
        assert upstream.calls["SampleGraph"] == 1
        assert {r.content for r in replies} == {replies[0].content}
        assert sorted(r.headers["x-cache"] for r in replies) == ["HIT"] * 7 + ["MISS"]

    asyncio.run(main())


def test_ndjson_streams_progress_then_the_curve_and_caches_it(run: Any) -> None:
    ndjson = {"Accept": "application/x-ndjson"}

    async def scenario(client: Any, upstream: Upstream, redis_url: str) -> None:
        first = await client.post("/v1/sweeps", json=SWEEP, headers=ndjson)
        lines = [json.loads(line) for line in first.text.splitlines()]
        assert first.headers["x-cache"] == "MISS"
        assert first.headers["content-type"].startswith("application/x-ndjson")
        progress = [line["progress"]["done"] for line in lines[:-1]]
        assert progress == list(range(1, SWEEP_STEPS + 1))
        curve = expected_curve(simulation_pb2.SweepRequest(**SWEEP))
        assert lines[-1]["curve"] == {**lines[-1]["curve"], **curve}
        again = await client.post("/v1/sweeps", json=SWEEP, headers=ndjson)
        assert again.headers["x-cache"] == "HIT"
        assert [json.loads(line) for line in again.text.splitlines()] == [lines[-1]]
        plain = await client.post("/v1/sweeps", json=SWEEP)  # the JSON route shares the entry
        assert (plain.headers["x-cache"], plain.json()) == ("HIT", lines[-1]["curve"])
        assert upstream.calls["Sweep"] == 1

    run(scenario)


def test_a_stream_that_fails_after_the_first_byte_ends_with_the_problem(run: Any) -> None:
    async def scenario(client: Any, upstream: Upstream, redis_url: str) -> None:
        body = {**SWEEP, "seed": DIES_SEED}
        reply = await client.post(
            "/v1/sweeps", json=body, headers={"Accept": "application/x-ndjson"}
        )
        lines = [json.loads(line) for line in reply.text.splitlines()]
        assert reply.status_code == 200
        assert lines[0] == {"progress": {"done": 1, "total": SWEEP_STEPS, "fraction": 0.0}}
        assert lines[-1]["error"]["status"] == 503
        assert "zuhur.v1.Simulation is unavailable" in lines[-1]["error"]["detail"]

    run(scenario)


def test_upstream_errors_map_to_problems_naming_field_service_and_retry(run: Any) -> None:
    async def scenario(client: Any, upstream: Upstream, redis_url: str) -> None:
        bad = await client.post("/v1/graphs/sample", json={**SAMPLE, "seed": BAD_SEED})
        assert bad.status_code == 422
        assert bad.headers["content-type"] == "application/problem+json"
        refused = {"field": "seed", "message": f"seed {BAD_SEED} is refused here"}
        assert bad.json()["errors"] == [refused]
        busy = await client.post("/v1/graphs/sample", json={**SAMPLE, "seed": BUSY_SEED})
        assert (busy.status_code, busy.headers["retry-after"]) == (429, "3")  # ceil(2.3)
        invalid = await client.post("/v1/graphs/sample", json={**SAMPLE, "n": "many"})
        assert invalid.status_code == 422 and invalid.json()["errors"][0]["field"] == "n"
        assert upstream.calls["SampleGraph"] == 2  # the gateway rejected the third itself
        down = await client.post("/v1/fits/power-law", json={"x": [1, 2, 4], "y": [4, 2, 1]})
        assert (down.status_code, down.headers["retry-after"]) == (503, "1")
        assert down.json()["detail"].startswith("zuhur.v1.Fitting is unavailable")
        metrics = (await client.get("/metrics")).text
        assert 'route="/v1/graphs/sample",status="422"' in metrics

    run(scenario)


def test_a_dead_redis_costs_the_cache_not_the_answer() -> None:
    async def main() -> None:
        upstream = Upstream()
        dead = f"redis://127.0.0.1:{free_port()}/0"
        async with upstream_server(upstream) as port, gateway(dead, port) as client:
            replies = [await client.post("/v1/graphs/sample", json=SAMPLE) for _ in range(2)]
        assert [r.status_code for r in replies] == [200, 200]
        assert [r.headers["x-cache"] for r in replies] == ["BYPASS", "BYPASS"]
        assert replies[0].content == replies[1].content

    asyncio.run(main())


def counter(metrics: str, name: str, **labels: str) -> float:
    """The value of one series of a counter in a /metrics text (labels: a subset)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    return sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
               if line.startswith(f"{name}{{") and wanted in line)  # fmt: skip


def test_150_concurrent_hits_wait_for_a_pool_connection_instead_of_recomputing(
    redis_url: str,
) -> None:
    """More concurrent Redis reads than connections (150 keys on 8, 64 by default): each
    waits for a pooled connection and is still a hit; no recomputation, no Redis error."""
    redis.Redis.from_url(redis_url).flushall()
    bodies = [{**SAMPLE, "seed": 1000 + i} for i in range(150)]

    async def main() -> None:
        upstream = Upstream()
        async with (
            upstream_server(upstream) as port,
            gateway(redis_url, port, near_cache_seconds=0, redis_max_connections=8) as client,
        ):
            misses = await asyncio.gather(
                *(client.post("/v1/graphs/sample", json=b) for b in bodies)
            )
            before = counter((await client.get("/metrics")).text, "zuhur_cache_errors_total")
            hits = await asyncio.gather(*(client.post("/v1/graphs/sample", json=b) for b in bodies))
            after = counter((await client.get("/metrics")).text, "zuhur_cache_errors_total")
        assert [r.headers["x-cache"] for r in misses] == ["MISS"] * 150
        assert [r.headers["x-cache"] for r in hits] == ["HIT"] * 150
        assert [r.content for r in hits] == [r.content for r in misses]
        assert upstream.calls["SampleGraph"] == 150
        assert after == before  # no "too many connections", no pool timeout

    asyncio.run(main())


def test_150_concurrent_hits_of_one_key_are_hits_sharing_redis_reads(redis_url: str) -> None:
    """150 concurrent requests for one stored key (near cache off): all hits, and the
    process reads the key from Redis fewer times than it is asked (reads in flight shared)."""
    store = redis.Redis.from_url(redis_url)
    store.flushall()

    def gets() -> int:
        return int(store.info("commandstats").get("cmdstat_get", {}).get("calls", 0))

    async def main() -> tuple[list[Any], int]:
        upstream = Upstream()
        async with (
            upstream_server(upstream) as port,
            gateway(redis_url, port, near_cache_seconds=0) as client,
        ):
            await client.post("/v1/graphs/sample", json=SAMPLE)
            before = gets()
            replies = await asyncio.gather(
                *(client.post("/v1/graphs/sample", json=SAMPLE) for _ in range(150))
            )
            return replies, gets() - before

    replies, reads = asyncio.run(main())
    assert [r.headers["x-cache"] for r in replies] == ["HIT"] * 150
    assert 1 <= reads < 150


def test_a_hit_answered_before_routing_keeps_the_routes_answers(run: Any) -> None:
    """The hot path answers a hit with the stored bytes, X-Cache, the request id and the
    route's metrics; anything else (an invalid body, no-cache, a picture) is still the
    route's own answer."""

    async def scenario(client: Any, upstream: Upstream, redis_url: str) -> None:
        route = {"method": "POST", "route": "/v1/graphs/sample", "status": "200"}

        async def served() -> tuple[float, float]:
            metrics = (await client.get("/metrics")).text
            return (counter(metrics, "zuhur_http_requests_total", **route),
                    counter(metrics, "zuhur_cache_lookups_total", result="hit"))  # fmt: skip

        miss = await client.post("/v1/graphs/sample", json=SAMPLE)
        before = await served()
        hit = await client.post("/v1/graphs/sample", json=SAMPLE, headers={"X-Request-ID": "r-1"})
        after = await served()
        assert (hit.status_code, hit.headers["x-cache"], hit.content) == (200, "HIT", miss.content)
        assert hit.headers["content-type"] == "application/json"
        assert hit.headers["x-request-id"] == "r-1"
        assert (after[0] - before[0], after[1] - before[1]) == (1, 1)  # the route, one hit
        # Invalid bodies of a cached route: the same 422 naming the field as ever.
        wrong = await client.post("/v1/graphs/sample", json={**SAMPLE, "n": True})
        assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "n"
        extra = await client.post("/v1/graphs/sample", json={**SAMPLE, "color": "red"})
        assert extra.status_code == 422 and extra.json()["errors"][0]["field"] == "color"
        text = await client.post(
            "/v1/graphs/sample", content=json.dumps(SAMPLE), headers={"content-type": "text/plain"}
        )
        assert text.status_code == 415  # the route refuses what is not JSON
        fresh = await client.post(
            "/v1/graphs/sample", json=SAMPLE, headers={"Cache-Control": "no-cache"}
        )
        assert fresh.headers["x-cache"] == "BYPASS" and upstream.calls["SampleGraph"] == 2
        # Accept is the route's to negotiate: an unoffered type is refused, not sent JSON.
        html = await client.post("/v1/graphs/sample", json=SAMPLE, headers={"Accept": "text/html"})
        assert html.status_code == 406
        ndjson = await client.post(
            "/v1/graphs/sample", json=SAMPLE, headers={"Accept": "application/x-ndjson"}
        )
        assert ndjson.status_code == 406  # only the sweeps route streams
        plain = await client.post(
            "/v1/graphs/sample", json=SAMPLE, headers={"Accept": "text/html, */*;q=0.1"}
        )
        assert (plain.headers["x-cache"], plain.content) == ("HIT", miss.content)

    run(scenario)


def test_the_near_cache_serves_a_verified_value_without_redis_for_its_seconds(
    redis_url: str,
) -> None:
    """A hot value is answered from the process for ``near_cache_seconds`` even once Redis
    lost it; with the near cache off, the same loss is a recomputation."""
    store = redis.Redis.from_url(redis_url)

    async def hits_after_flush(near_seconds: float) -> list[str]:
        store.flushall()
        upstream = Upstream()
        async with (
            upstream_server(upstream) as port,
            gateway(redis_url, port, near_cache_seconds=near_seconds) as client,
        ):
            first = await client.post("/v1/graphs/sample", json=SAMPLE)
            store.flushall()  # Redis forgets (an expiry, an operator)
            second = await client.post("/v1/graphs/sample", json=SAMPLE)
            assert first.content == second.content
            return [first.headers["x-cache"], second.headers["x-cache"]]

    assert asyncio.run(hits_after_flush(60.0)) == ["MISS", "HIT"]
    assert asyncio.run(hits_after_flush(0.0)) == ["MISS", "MISS"]


def test_routes_are_built_at_startup_not_by_their_first_request(run: Any) -> None:
    """FastAPI builds an included router's routes lazily (dependencies, body validator: tens
    of ms on the first call of a route, issue 11); the lifespan builds them all, so a
    route's first request builds nothing."""
    from fastapi import routing

    built = Counter[str]()
    original = routing._EffectiveRouteContext.from_api_route

    def counting(*args: Any, **kwargs: Any) -> Any:
        built[kwargs["original_route"].path] += 1
        return original(*args, **kwargs)

    async def scenario(client: Any, upstream: Upstream, redis_url: str) -> None:
        with mock.patch.object(routing._EffectiveRouteContext, "from_api_route", counting):
            reply = await client.post("/v1/graphs/sample", json=SAMPLE)
            await client.post("/v1/abilities/simulate", json={"sizes": [1e9]})
        assert reply.status_code == 200
        assert built == Counter()

    run(scenario)


def test_the_startup_heap_is_out_of_full_collections_and_new_garbage_is_collected(
    run: Any,
) -> None:
    """A full GC walking the start-up heap stalled every request ~200 ms (the cached hit's
    p99, issue 13): after start-up the app's objects are frozen out of what collections walk
    (``gc.get_objects``), while a cycle made while serving is still collected."""
    import gc
    import weakref

    class Node:
        def __init__(self) -> None:
            self.me = self

    async def scenario(client: Any, upstream: Upstream, redis_url: str) -> None:
        app = client._transport.app
        walked = {id(o) for o in gc.get_objects()}
        assert gc.get_freeze_count() > 0
        assert id(app.state.context) not in walked and id(app.router) not in walked
        reply = await client.post("/v1/graphs/sample", json=SAMPLE)
        assert reply.status_code == 200
        cycle = Node()
        assert cycle.me is cycle  # a cycle: only the collector can free it
        gone = weakref.ref(cycle)
        del cycle
        gc.collect()
        assert gone() is None

    run(scenario)
