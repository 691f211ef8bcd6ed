"""The Jobs API against the real stack: same JSON as the synchronous route, validation at
submission, joining a running twin, SSE progress, listing, and cancel stopping the work."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.integration.jobs_client import get, sse_events, submit, wait_until
from tests.integration.stack import Stack

# Long enough to act on while it runs: ~3 s on an idle 2-core machine, more when loaded (at
# n = 3·10^5 the faster sweep kernel took 0.6 s and left the SSE test one progress event).
LONG_SWEEP: dict[str, Any] = {
    "model": "erdos_renyi",
    "n": 1_000_000,
    "grid": {"start": 0.0, "stop": 4.0, "points": 20},
    "replicates": 48,
}


def test_job_result_is_the_synchronous_response(jobs_stack: Stack) -> None:
    """Seeded: the job's result and /result bytes equal the synchronous route's reply."""
    url = jobs_stack.url
    body = {"model": "erdos_renyi", "n": 20000, "c": 1.5, "replicates": 4, "seed": 11}
    job = submit(url, "sample", body, **{"cache-control": "no-cache"})
    assert job["status"] in ("queued", "running") and job["method"] == "sample_graph"
    done = wait_until(url, job["id"])
    assert done["status"] == "succeeded", done
    assert done["progress"]["done"] == done["progress"]["total"] > 0
    assert done["created_at"] <= done["started_at"] <= done["finished_at"]
    sync = httpx.post(f"{url}/v1/graphs/sample", json=body, timeout=60)
    assert sync.status_code == 200 and sync.headers["X-Cache"] == "HIT"  # the job stored it
    assert done["result"] == sync.json()
    assert httpx.get(f"{url}/v1/jobs/{job['id']}/result").content == sync.content
    # Independent check of the computation itself: S(1.5) = 0.5828 (giant component).
    assert abs(done["result"]["largest_fraction"]["mean"] - 0.5828) < 0.03


def test_unseeded_job_gets_its_seed_at_submission(jobs_stack: Stack) -> None:
    url = jobs_stack.url
    body = {"model": "erdos_renyi", "n": 5000, "c": 2.0, "replicates": 2}
    job = submit(url, "sample", body)
    seed = job["request"]["seed"]
    assert isinstance(seed, int) and 0 <= seed < 2**53
    done = wait_until(url, job["id"])
    assert done["status"] == "succeeded" and done["result"]["seed"] == seed
    again = httpx.post(f"{url}/v1/graphs/sample", json={**body, "seed": seed}, timeout=60)
    assert again.json() == done["result"]


def test_validation_happens_at_submission(jobs_stack: Stack) -> None:
    url = jobs_stack.url
    cases = [
        ({"method": "sweep", "request": {"model": "erdos_renyi", "n": "many"}}, "request.n"),
        ({"method": "sample", "request": {"nodes": 10}}, "request.nodes"),
        ({"method": "no_such_method", "request": {}}, "method"),
        ({"method": "sweep", "request": {"grid": {"points": 2**40}}}, "request.grid.points"),
    ]
    for body, field in cases:
        reply = httpx.post(f"{url}/v1/jobs", json=body, timeout=10)
        assert reply.status_code == 422, reply.text
        assert reply.headers["content-type"].startswith("application/problem+json")
        assert field in [e["field"] for e in reply.json()["errors"]], reply.text
    missing = httpx.get(f"{url}/v1/jobs/0123456789abcdef")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


# Bodies the gateway's schema accepts but the service refuses (its rules and configured
# limits): (job method, synchronous route, body).
SERVICE_REFUSALS: list[tuple[str, str, dict[str, Any]]] = [
    ("sample", "/v1/graphs/sample", {"model": "erdos_renyi", "n": 1, "c": 1.0}),
    (
        "sweep",
        "/v1/sweeps",
        {
            "model": "erdos_renyi",
            "n": 1000,
            "grid": {"start": 0, "stop": 4, "points": 10},
            "replicates": 10**9,
            "seed": 1,
        },
    ),
    (
        "simulate_abilities",
        "/v1/abilities/simulate",
        {"sizes": [1e8, 1e9], "k": 8, "items": 100, "replicates": 10**8, "seed": 1},
    ),
    ("power-law", "/v1/fits/power-law", {"x": [1.0, 2.0], "y": [1.0, 0.5]}),
    ("emergence", "/v1/fits/emergence", {"scale": [1e8, 1e9, 1e10], "score": [0.1, 0.2, 1.5]}),
]


def test_service_refusals_happen_at_submission(jobs_stack: Stack) -> None:
    """What the service refuses (not the gateway's schema) is refused by POST /v1/jobs with
    the synchronous route's 422 and fields, and nothing is queued."""
    url = jobs_stack.url
    before = httpx.get(f"{url}/v1/jobs", timeout=10).json()["total"]
    for method, route, body in SERVICE_REFUSALS:
        sync = httpx.post(f"{url}{route}", json=body, timeout=30)
        assert sync.status_code == 422, (route, sync.text)  # the independent truth
        fields = sorted(e["field"] for e in sync.json()["errors"])
        assert fields, sync.text
        reply = httpx.post(f"{url}/v1/jobs", json={"method": method, "request": body}, timeout=30)
        assert reply.status_code == 422, (method, reply.text)
        assert reply.headers["content-type"].startswith("application/problem+json")
        assert sorted(e["field"] for e in reply.json()["errors"]) == fields, reply.text
    assert httpx.get(f"{url}/v1/jobs", timeout=10).json()["total"] == before


def test_sse_streams_progress_then_the_final_state(jobs_stack: Stack) -> None:
    url = jobs_stack.url
    start = time.monotonic()
    job = submit(url, "sweep", {**LONG_SWEEP, "seed": 21})
    events = list(sse_events(url, job["id"]))
    kinds = [e for e, _, _ in events]
    assert kinds[-1] == "final" and kinds.count("final") == 1
    progress = [d for e, d, _ in events if e == "progress"]
    assert len(progress) >= 2, events
    done = [p["done"] for p in progress]
    assert done == sorted(done) and all(p["total"] == LONG_SWEEP["replicates"] for p in progress)
    final = events[-1][1]
    assert final["status"] == "succeeded" and final["result"]["replicates"] == 48
    first = next(t for e, _, t in events if e == "progress")
    first_done = next(t for e, d, t in events if e == "progress" and d["done"] > 0)
    print(
        f"\nsubmission -> first progress event {first:.2f} s, first with work done "
        f"{first_done:.2f} s; whole sweep {time.monotonic() - start:.2f} s, "
        f"{len(progress)} progress events"
    )
    # listed newest first, without results
    listed = httpx.get(f"{url}/v1/jobs", params={"limit": 1}).json()
    assert listed["jobs"][0]["id"] == job["id"] and listed["total"] >= 1
    assert "result" not in listed["jobs"][0] or listed["jobs"][0]["result"] is None


def test_identical_seeded_submission_joins_the_running_job(jobs_stack: Stack) -> None:
    url = jobs_stack.url
    body = {**LONG_SWEEP, "seed": 22}
    first = submit(url, "sweep", body)
    wait_until(url, first["id"], ("running",))
    second = submit(url, "sweep", body)
    assert second["id"] == first["id"] and second["status"] == "running"
    other = submit(url, "sweep", {**body, "seed": 23})
    assert other["id"] != first["id"]
    for job in (first, other):
        httpx.delete(f"{url}/v1/jobs/{job['id']}")
    assert wait_until(url, other["id"])["status"] == "cancelled"


def test_cancel_stops_the_computation(jobs_stack: Stack) -> None:
    """DELETE ends the upstream call: the simulation's in-flight gauge drops to 0."""
    url = jobs_stack.url
    jobs_stack.wait_idle(timeout=60)
    job = submit(url, "sweep", {**LONG_SWEEP, "seed": 24})
    wait_until(url, job["id"], ("running",))
    deadline = time.monotonic() + 30
    while jobs_stack.in_flight() < 1:  # the call has reached the service
        assert time.monotonic() < deadline
        time.sleep(0.05)
    start = time.monotonic()
    reply = httpx.delete(f"{url}/v1/jobs/{job['id']}")
    assert reply.status_code == 200 and reply.json()["status"] == "cancelled"
    while jobs_stack.in_flight() > 0:
        time.sleep(0.02)
    latency = time.monotonic() - start
    print(f"\ncancel -> simulation in-flight 0: {latency:.3f} s")
    assert latency < 1.5  # 1 s target, slack for a loaded 2-core machine
    final = wait_until(url, job["id"])
    assert final["status"] == "cancelled" and final["finished_at"] and final["result"] is None
    assert get(url, job["id"])["status"] == "cancelled"
    assert jobs_stack.metric("jobs", "zuhur_jobs_finished_total") >= 1


def test_fit_job_is_the_synchronous_fit(jobs_stack: Stack) -> None:
    """A fitting method as a job: exact data y = 10 x^-1.5 give A = 10, alpha = 1.5."""
    url = jobs_stack.url
    x = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0]
    body = {"x": x, "y": [10.0 * v**-1.5 for v in x]}
    job = submit(url, "power-law", body)
    assert job["method"] == "power_law"
    done = wait_until(url, job["id"])
    assert done["status"] == "succeeded", done
    params = done["result"]["params"]
    assert abs(params["A"]["value"] - 10.0) < 1e-6 and abs(params["alpha"]["value"] - 1.5) < 1e-6
    sync = httpx.post(f"{url}/v1/fits/power-law", json=body, timeout=60)
    assert sync.status_code == 200 and sync.json() == done["result"]
