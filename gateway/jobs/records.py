"""A saq job as the Jobs API shows it: status, progress, timestamps, result, problem."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from saq import Job, Status

from gateway.jobs.store import CANCELLED

TERMINAL = ("succeeded", "failed", "cancelled")


def api_status(job: Job) -> str:
    """queued | running | succeeded | failed | cancelled.

    A job aborted by the sweep (its worker died) is being retried: queued, or failed once
    its attempts are spent; only a client's DELETE makes it cancelled.
    """
    cancelled = job.error == CANCELLED
    match job.status:
        case Status.ACTIVE:
            return "running"
        case Status.ABORTING:
            return "cancelled" if cancelled else "queued"
        case Status.ABORTED:  # swept: the sweep retries it next, unless its attempts are spent
            return "cancelled" if cancelled else ("queued" if job.retryable else "failed")
        case Status.FAILED:
            return "failed"
        case Status.COMPLETE:
            return "succeeded"
    return "queued"


def _time(ms: int) -> str | None:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat() if ms else None


def problem_of(job: Job) -> dict[str, Any] | None:
    """The failed job's problem+json: the last attempt's upstream error, else a lost worker."""
    if api_status(job) != "failed":
        return None
    found = job.meta.get("error")
    if isinstance(found, dict):
        return found
    return {
        "type": "about:blank",
        "title": "Job failed",
        "status": 503,
        "detail": f"the job's worker stopped responding; gave up after {job.attempts} attempts",
    }


def progress_of(job: Job) -> dict[str, int]:
    progress = job.meta.get("progress") or {}
    return {"done": int(progress.get("done", 0)), "total": int(progress.get("total", 0))}


def view(job: Job, result: bool = True) -> dict[str, Any]:
    """The JSON of ``GET /v1/jobs/{id}``; ``result`` is the synchronous route's JSON."""
    status = api_status(job)
    return {
        "id": job.key,
        "method": job.meta.get("method"),
        "status": status,
        "progress": progress_of(job),
        "attempts": job.attempts,
        "created_at": _time(int(job.meta.get("created_at", job.queued))),
        "started_at": _time(job.started),
        "finished_at": _time(job.completed) if status in TERMINAL else None,
        "request": (job.kwargs or {}).get("request"),
        "result": job.result if result and status == "succeeded" else None,
        "error": problem_of(job),
    }
