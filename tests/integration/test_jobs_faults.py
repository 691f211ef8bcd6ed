"""Jobs survive faults, each process started on its own so it can be killed: a SIGKILLed
worker (retried, same bytes as an uninterrupted run), a restarted gateway (the job goes on),
a restarted jobs Redis (queued and running jobs both complete), a dead simulation service
(retried with back-off, then a clear 503 once the attempts are spent)."""

from __future__ import annotations

import signal
import time

import httpx

from tests.integration.jobs_client import get, submit, wait_mid_job, wait_until
from tests.integration.stack import Stack
from tests.integration.test_jobs import LONG_SWEEP

NO_CACHE = {"cache-control": "no-cache"}


def test_worker_killed_mid_job_is_retried_to_the_same_bytes(jobs_stack: Stack) -> None:
    url = jobs_stack.url
    body = {**LONG_SWEEP, "seed": 31}
    reference = httpx.post(f"{url}/v1/sweeps", json=body, timeout=180)  # uninterrupted run
    assert reference.status_code == 200, reference.text
    jobs_stack.wait_idle(timeout=60)
    job = submit(url, "sweep", body, **NO_CACHE)  # recompute, no cache lookup
    running = wait_mid_job(url, job["id"])
    jobs_stack.stop("jobs", signal.SIGKILL)
    killed_at = time.monotonic()
    jobs_stack.start("jobs")
    jobs_stack.wait_worker()
    done = wait_until(url, job["id"], timeout=240)
    print(f"\nworker SIGKILL -> job finished on retry after {time.monotonic() - killed_at:.1f} s")
    assert done["status"] == "succeeded", done
    assert done["attempts"] == running["attempts"] + 1
    assert httpx.get(f"{url}/v1/jobs/{job['id']}/result").content == reference.content
    assert jobs_stack.metric("jobs", "zuhur_job_retries_total") >= 1


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
    down = httpx.post(f"{url}/v1/jobs", json={"method": "sample", "request": {"n": 9}}, timeout=30)
    assert down.status_code == 503 and "jobs store" in down.json()["detail"]
    jobs_stack.start("jobs-redis")
    for job in (running, queued):
        done = wait_until(url, job["id"], timeout=240)
        assert done["status"] == "succeeded", done
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
