"""The whole stack through HTTP: caching, errors, and surviving dead dependencies."""

from __future__ import annotations

import asyncio
import math

import httpx
import pytest
import redis
from scipy.special import lambertw

from gateway.core.config import Settings
from tests.integration.stack import Stack

SAMPLE = {"model": "erdos_renyi", "n": 20000, "c": 2.0, "replicates": 3, "seed": 11}
FIT = {"x": [1, 2, 4, 8, 16, 32], "y": [10.2, 4.9, 2.6, 1.24, 0.63, 0.31]}


def post(stack: Stack, path: str, body: object) -> httpx.Response:
    return httpx.post(f"{stack.url}{path}", json=body, timeout=60.0)


def test_seeded_sample_is_cached_and_identical(stack: Stack) -> None:
    body = {**SAMPLE, "seed": 12345}
    first = post(stack, "/v1/graphs/sample", body)
    second = post(stack, "/v1/graphs/sample", body)
    assert first.status_code == second.status_code == 200
    assert first.headers["X-Cache"] == "MISS"
    assert second.headers["X-Cache"] == "HIT"
    assert first.json() == second.json()
    result = first.json()
    assert result["seed"] == 12345 and result["engine_version"]
    assert len(result["replicates"]) == 3
    # Largest component near the mean-field fraction S(2) = 1 + W(-2e^-2)/2.
    s2 = 1 + lambertw(-2 * math.exp(-2)).real / 2
    assert abs(result["largest_fraction"]["mean"] - s2) < 0.03
    assert abs(result["theory_largest_fraction"] - s2) < 1e-12


def test_configuration_model_theory_matches_erdos_renyi(stack: Stack) -> None:
    """A Poisson(c) configuration model with every bond kept has ER's giant fraction S(c)."""
    body = {"model": "configuration", "n": 50000, "degrees": {"kind": "poisson", "mean": 3.0}}
    result = post(stack, "/v1/graphs/sample", {**body, "replicates": 4, "seed": 3}).json()
    s3 = 1 + lambertw(-3 * math.exp(-3)).real / 3
    assert abs(result["theory_largest_fraction"] - s3) < 1e-9
    assert abs(result["largest_fraction"]["mean"] - s3) < 0.01


def test_unseeded_sample_is_not_cached(stack: Stack) -> None:
    body = {k: v for k, v in SAMPLE.items() if k != "seed"}
    first = post(stack, "/v1/graphs/sample", body)
    second = post(stack, "/v1/graphs/sample", body)
    assert first.headers["X-Cache"] == second.headers["X-Cache"] == "BYPASS"
    assert first.json()["seed"] != second.json()["seed"]  # the server drew and reported them
    # Replaying a reported seed reproduces the unseeded run exactly.
    replay = post(stack, "/v1/graphs/sample", {**body, "seed": first.json()["seed"]})
    assert replay.json()["replicates"] == first.json()["replicates"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**SAMPLE, "n": 1}, "n"),
        ({**SAMPLE, "c": None, "p": 1.5}, "p"),
        ({**SAMPLE, "p": 0.1}, "c"),  # both p and c
        ({**SAMPLE, "n": 10**12}, "n"),  # over the configured limit
        ({**SAMPLE, "n": "many"}, "n"),  # wrong JSON type, caught by the gateway's schema
        ({**SAMPLE, "colour": "red"}, "colour"),
        ({**SAMPLE, "replicates": 2**31}, "replicates"),  # beyond int32: no 500 either
    ],
)
def test_bad_sample_request_is_422_naming_the_field(stack: Stack, body: dict, field: str) -> None:
    reply = post(stack, "/v1/graphs/sample", body)
    assert reply.status_code == 422
    assert reply.headers["content-type"].startswith("application/problem+json")
    problem = reply.json()
    assert problem["status"] == 422
    assert field in [e["field"] for e in problem["errors"]]
    assert field in problem["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"x": [1, 2, 3], "y": [1, 2]}, "y"),
        ({"x": [1, 2, -3, 4], "y": [4, 3, 2, 1]}, "x[2]"),
        ({"x": [1, 2], "y": [2, 1]}, "x"),  # too few points for two parameters
    ],
)
def test_bad_fit_request_is_422_naming_the_field(stack: Stack, body: dict, field: str) -> None:
    reply = post(stack, "/v1/fits/power-law", body)
    assert reply.status_code == 422
    assert field in [e["field"] for e in reply.json()["errors"]]


def test_non_finite_numbers_are_rejected(stack: Stack) -> None:
    # JSON has no NaN, but Python's json (and many clients) send it: the service names it.
    reply = httpx.post(
        f"{stack.url}/v1/fits/power-law",
        content=b'{"x": [1, 2, 3, 4], "y": [4, NaN, 2, 1]}',
        headers={"content-type": "application/json"},
    )
    assert reply.status_code == 422
    assert "y[1]" in reply.json()["detail"]


def test_power_law_fit_through_the_stack(stack: Stack) -> None:
    reply = post(stack, "/v1/fits/power-law", FIT)
    assert reply.status_code == 200
    fit = reply.json()
    assert set(fit["params"]) == {"A", "alpha"}
    low, high = fit["params"]["alpha"]["ci95"]
    assert low < 1.0 < high  # the data were drawn around alpha = 1
    assert fit["converged"] and fit["n"] == 6
    # A deterministic fit (no bootstrap) is cached even without a seed.
    assert post(stack, "/v1/fits/power-law", FIT).headers["X-Cache"] == "HIT"


def test_metrics_on_every_process(stack: Stack) -> None:
    post(stack, "/v1/graphs/sample", SAMPLE)
    gateway = httpx.get(f"{stack.url}/metrics").text
    assert "zuhur_http_requests_total" in gateway and "zuhur_cache_lookups_total" in gateway
    for name in ("simulation_metrics", "fitting_metrics"):
        text = httpx.get(f"http://127.0.0.1:{stack.ports[name]}/metrics").text
        assert "zuhur_grpc_server_requests_total" in text
        assert "zuhur_grpc_server_request_duration_seconds_bucket" in text
    assert (
        'method="SampleGraph"'
        in httpx.get(f"http://127.0.0.1:{stack.ports['simulation_metrics']}/metrics").text
    )


def test_info_lists_versions_limits_and_models(stack: Stack) -> None:
    services = {s["service"]: s for s in httpx.get(f"{stack.url}/v1/info").json()["services"]}
    sim, fit = services["zuhur.v1.Simulation"], services["zuhur.v1.Fitting"]
    assert sim["engine_version"] and fit["engine_version"]
    assert "square_lattice_site" in sim["models"] and "emergence" in fit["models"]
    assert sim["limits"]["max_nodes"] > 0 and fit["limits"]["max_points"] > 0


def test_openapi_documents_the_routes(stack: Stack) -> None:
    spec = httpx.get(f"{stack.url}/openapi.json").json()
    assert {"/v1/graphs/sample", "/v1/fits/power-law", "/readyz"} <= set(spec["paths"])
    assert httpx.get(f"{stack.url}/docs").status_code == 200


def test_simulation_down_gives_503_and_fits_still_work(own_stack: Stack) -> None:
    assert own_stack.stop("simulation") == 0  # SIGTERM: graceful, exit status 0
    reply = post(own_stack, "/v1/graphs/sample", {**SAMPLE, "seed": 99})
    assert reply.status_code == 503
    assert reply.headers["content-type"].startswith("application/problem+json")
    assert post(own_stack, "/v1/fits/power-law", FIT).status_code == 200
    ready = httpx.get(f"{own_stack.url}/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["simulation"] == "unavailable"
    # It comes back: restart it and the gateway reconnects.
    own_stack.start("simulation")
    own_stack.wait_ready()
    assert post(own_stack, "/v1/graphs/sample", {**SAMPLE, "seed": 99}).status_code == 200


def test_redis_down_still_answers(own_stack: Stack) -> None:
    cached = post(own_stack, "/v1/graphs/sample", SAMPLE)
    assert cached.headers["X-Cache"] == "MISS"
    own_stack.stop("redis")
    reply = post(own_stack, "/v1/graphs/sample", SAMPLE)
    assert reply.status_code == 200
    assert reply.headers["X-Cache"] == "BYPASS"
    assert reply.json() == cached.json()  # computed again: the same seed gives the same bytes
    ready = httpx.get(f"{own_stack.url}/readyz").json()
    assert ready["status"] == "degraded" and ready["checks"]["redis"] == "unavailable"


def sample_calls(stack: Stack) -> float:
    """SampleGraph calls the simulation service has answered OK (from its /metrics)."""
    text = httpx.get(f"http://127.0.0.1:{stack.ports['simulation_metrics']}/metrics").text
    return sum(
        float(line.split()[-1])
        for line in text.splitlines()
        if line.startswith("zuhur_grpc_server_requests_total{")
        and 'method="SampleGraph"' in line
        and 'code="OK"' in line
    )


def test_identical_concurrent_requests_compute_once(stack: Stack) -> None:
    """Single flight: the second of two identical in-flight requests waits for the first."""
    body = {"model": "erdos_renyi", "n": 2_000_000, "c": 2.0, "replicates": 2, "seed": 777}
    before = sample_calls(stack)

    async def both() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=stack.url, timeout=120) as client:
            return list(
                await asyncio.gather(*(client.post("/v1/graphs/sample", json=body) for _ in "ab"))
            )

    replies = asyncio.run(both())
    assert sorted(r.headers["X-Cache"] for r in replies) == ["HIT", "MISS"]
    assert replies[0].json() == replies[1].json()
    assert sample_calls(stack) - before == 1


def test_cached_results_expire(stack: Stack) -> None:
    post(stack, "/v1/graphs/sample", {**SAMPLE, "seed": 4242})
    client = redis.Redis(port=stack.ports["redis"])
    schema = Settings().cache_schema
    keys = [k for k in client.scan_iter(f"zuhur:v{schema}:*") if not k.endswith(b":lock")]
    assert keys
    ttls = [client.ttl(k) for k in keys]
    assert all(0 < t <= 7 * 24 * 3600 for t in ttls), ttls
