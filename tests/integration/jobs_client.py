"""Small HTTP helpers for the job tests: submit, wait, read SSE, read a service metric."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx

TERMINAL = ("succeeded", "failed", "cancelled")


def submit(url: str, method: str, request: dict[str, Any], **headers: str) -> dict[str, Any]:
    """POST /v1/jobs; asserts the 202 and its Location."""
    reply = httpx.post(
        f"{url}/v1/jobs", json={"method": method, "request": request}, headers=headers, timeout=30
    )
    assert reply.status_code == 202, reply.text
    job: dict[str, Any] = reply.json()
    assert reply.headers["location"] == f"/v1/jobs/{job['id']}"
    return job


def get(url: str, job_id: str) -> dict[str, Any]:
    reply = httpx.get(f"{url}/v1/jobs/{job_id}", timeout=10)
    assert reply.status_code == 200, reply.text
    return reply.json()  # type: ignore[no-any-return]


def wait_until(
    url: str, job_id: str, statuses: tuple[str, ...] = TERMINAL, timeout: float = 180.0
) -> dict[str, Any]:
    """Poll the job until its status is one of ``statuses``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            job = get(url, job_id)
            if job["status"] in statuses:
                return job
        except httpx.HTTPError:
            pass  # the gateway may be restarting
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} not {statuses} after {timeout} s")
        time.sleep(0.1)


def wait_mid_job(url: str, job_id: str, timeout: float = 120.0) -> dict[str, Any]:
    """Poll until the job runs and has reported some, not all, of its progress."""
    deadline = time.monotonic() + timeout
    while True:
        job = get(url, job_id)
        done, total = job["progress"]["done"], job["progress"]["total"]
        if job["status"] == "running" and 0 < done < total:
            return job
        assert job["status"] in ("queued", "running"), f"job ended before mid-way: {job}"
        assert time.monotonic() < deadline, f"job {job_id} not mid-way after {timeout} s"
        time.sleep(0.05)


def sse_events(url: str, job_id: str, timeout: float = 180.0) -> Iterator[tuple[str, Any, float]]:
    """(event, data, seconds since the call) of GET /v1/jobs/{id}/events, as they arrive."""
    start = time.monotonic()
    with httpx.stream("GET", f"{url}/v1/jobs/{job_id}/events", timeout=timeout) as reply:
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("text/event-stream")
        event = "message"
        for line in reply.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                yield event, json.loads(line.split(":", 1)[1]), time.monotonic() - start
                event = "message"
