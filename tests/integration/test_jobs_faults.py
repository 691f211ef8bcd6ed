"""Jobs survive faults, each process started on its own so it can be killed: a SIGKILLed
worker (retried, same bytes as an uninterrupted run), a SIGTERMed worker (its job handed
back, no attempt used, same bytes), a restarted gateway (the job goes on),
a restarted jobs Redis (queued and running jobs both complete), a dead simulation service
(retried with back-off, then a clear 503 once the attempts are spent)."""

from __future__ import annotations

import signal
import time

import httpx
import pytest

from tests.integration.jobs_client import get, submit, wait_mid_job, wait_until
from tests.integration.stack import Stack
from tests.integration.test_jobs import LONG_SWEEP

NO_CACHE = {"cache-control": "no-cache"}
BODY = {**LONG_SWEEP, "seed": 31}


@pytest.fixture(scope="module")
def reference(jobs_stack: Stack) -> bytes:
    """The synchronous route's bytes for ``BODY``: an uninterrupted run."""
    reply = httpx.post(f"{jobs_stack.url}/v1/sweeps", json=BODY, timeout=180)
    assert reply.status_code == 200, reply.text
    return reply.content


def test_worker_killed_mid_job_is_retried_to_the_same_bytes(
    jobs_stack: Stack, reference: bytes
) -> None:
    url = jobs_stack.url
    jobs_stack.wait_idle(timeout=60)
    job = submit(url, "sweep", BODY, **NO_CACHE)  # recompute, no cache lookup
    running = wait_mid_job(url, job["id"])
    jobs_stack.stop("jobs", signal.SIGKILL)
    killed_at = time.monotonic()
    jobs_stack.start("jobs")
    jobs_stack.wait_worker()
    done = wait_until(url, job["id"], timeout=240)
    print(f"\nworker SIGKILL -> job finished on retry after {time.monotonic() - killed_at:.1f} s")
    assert done["status"] == "succeeded", done
    assert done["attempts"] == running["attempts"] + 1
    assert httpx.get(f"{url}/v1/jobs/{job['id']}/result").content == reference
    assert jobs_stack.metric("jobs", "zuhur_job_retries_total") >= 1


def test_worker_stopped_mid_job_hands_it_back(jobs_stack: Stack, reference: bytes) -> None:
    """SIGTERM: the worker stops taking jobs, gives its job the drain (0 s here, so the job
    cannot finish first on a fast machine), then puts it back in the queue without counting
    the attempt and exits; the next worker finishes it to the same bytes, counting no retry."""
    url = jobs_stack.url
    jobs_stack.wait_idle(timeout=60)
    job = submit(url, "sweep", BODY, **NO_CACHE)  # the same id, run afresh
    running = wait_mid_job(url, job["id"])
    try:
        assert jobs_stack.stop("jobs") == 0  # exits by itself, well before the stop's kill
        handed_back = get(url, job["id"])
        assert handed_back["status"] == "queued", handed_back
        assert handed_back["attempts"] == running["attempts"] - 1
    finally:  # the module's other tests need a worker, whatever happened here
        jobs_stack.start("jobs")
        jobs_stack.wait_worker()
    done = wait_until(url, job["id"], timeout=240)
    assert done["status"] == "succeeded", done
    assert done["attempts"] == running["attempts"]
    assert httpx.get(f"{url}/v1/jobs/{job['id']}/result").content == reference
    assert jobs_stack.metric("jobs", "zuhur_job_retries_total") == 0


def test_gateway_restart_does_not_touch_running_jobs(jobs_stack: Stack) -> None:
    url = jobs_stack.url
    jobs_stack.wait_idle(timeout=60)
    job = submit(url, "sweep", {**LONG_SWEEP, "seed": 32}, **NO_CACHE)
    wait_until(url, job["id"], ("running",))
    jobs_stack.stop("gateway")
    jobs_stack.start("gateway")
    jobs_stack.wait_ready()
    seen = get(url, job["id"])
    assert seen["status"] in ("running", "succeeded") and seen["attempts"] == 1
    done = wait_until(url, job["id"])
    assert done["status"] == "succeeded" and done["attempts"] == 1
    assert done["result"]["seed"] == 32 and len(done["result"]["points"]) == 20


def test_jobs_redis_restart_keeps_queued_and_running_jobs(jobs_stack: Stack) -> None:
    """One worker slot: one job runs, the other waits in the queue while Redis is SIGKILLed
    (the append-only file is fsynced on every write) and started again."""
    url = jobs_stack.url
    jobs_stack.wait_idle(timeout=60)
    running = submit(url, "sweep", {**LONG_SWEEP, "seed": 33}, **NO_CACHE)
    wait_mid_job(url, running["id"])
    queued = submit(url, "sample", {"model": "erdos_renyi", "n": 10000, "c": 3.0, "seed": 34})
    assert get(url, queued["id"])["status"] == "queued"
    jobs_stack.stop("jobs-redis", signal.SIGKILL)
    try:  # a valid request (an invalid one is refused by its service first, with 422)
        valid = {"model": "erdos_renyi", "n": 9, "c": 1.0}
        down = httpx.post(f"{url}/v1/jobs", json={"method": "sample", "request": valid}, timeout=30)
        assert down.status_code == 503 and "jobs store" in down.json()["detail"], down.text
        ready = httpx.get(f"{url}/readyz", timeout=10)  # the synchronous routes still work
        assert ready.status_code == 200 and ready.json()["status"] == "degraded", ready.text
        assert ready.json()["checks"]["jobs"] == "unavailable"
        assert ready.json()["reasons"][0].startswith("jobs store unavailable: ")
    finally:  # the module's other tests need the jobs store, whatever happened here
        jobs_stack.start("jobs-redis")
    for job in (running, queued):
        done = wait_until(url, job["id"], timeout=240)
        assert done["status"] == "succeeded", done
    assert jobs_stack.wait_ready(timeout=30)["checks"]["jobs"] == "ok"
    sample = get(url, queued["id"])["result"]
    assert abs(sample["largest_fraction"]["mean"] - 0.9405) < 0.03  # S(3) = 0.9405


def test_dead_simulation_is_retried_then_fails_clearly(jobs_stack: Stack) -> None:
    """Runs last in this module: it stops the simulation service and starts it again."""
    url = jobs_stack.url
    jobs_stack.wait_idle(timeout=60)
    job = submit(url, "sweep", {**LONG_SWEEP, "seed": 35}, **NO_CACHE)
    wait_mid_job(url, job["id"])
    retries_before = jobs_stack.metric("jobs", "zuhur_job_retries_total")
    jobs_stack.stop("simulation", signal.SIGKILL)
    try:
        failed = wait_until(url, job["id"], timeout=120)
        assert failed["status"] == "failed", failed
        assert failed["attempts"] == 3  # ZUHUR_JOBS_ATTEMPTS in the test stack
        error = failed["error"]
        assert error["status"] == 503 and "zuhur.v1.Simulation is unavailable" in error["detail"]
        result = httpx.get(f"{url}/v1/jobs/{job['id']}/result")
        assert result.status_code == 503
        assert result.headers["content-type"].startswith("application/problem+json")
        retries = jobs_stack.metric("jobs", "zuhur_job_retries_total")
        assert retries - retries_before == 2
    finally:
        jobs_stack.start("simulation")
        jobs_stack.wait_ready()
