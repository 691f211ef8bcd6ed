"""A job continues the trace and request id of the request that submitted it.

Submission stores the W3C trace context (``traceparent``) and the request id in the job
record (``submission_meta``); every attempt on a worker is a span that continues that trace
(``begin``), its gRPC and Redis calls nest under it, and it ends with one log line
(``end``). saq has no OpenTelemetry instrumentation, so this span is the one made by hand.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, set_span_in_context
from saq import Job

from services.common import telemetry
from services.common.logs import REQUEST_ID

job_log = logging.getLogger("zuhur.jobs")


def submission_meta() -> dict[str, Any]:
    """Record fields that tie a job to the submitting request: trace context, request id."""
    meta: dict[str, Any] = {"request_id": REQUEST_ID.get()}
    headers = telemetry.carrier()
    if headers:
        meta["trace"] = headers
    return meta


@dataclass
class Attempt:
    """The span of one attempt and the context token that made it current."""

    span: Span
    token: object


def begin(job: Job) -> Attempt:
    """Start the attempt's span (a child of the submitting request's) and make it, and the
    submission's request id, current for the attempt's calls and log lines."""
    REQUEST_ID.set(job.meta.get("request_id"))
    method = job.meta.get("method", "?")
    parent = telemetry.extract(job.meta.get("trace"))
    span = telemetry.tracer(__name__).start_span(
        f"job {method}",
        context=parent,
        kind=SpanKind.CONSUMER,
        attributes={
            "messaging.system": "saq",
            "messaging.operation.type": "process",
            "zuhur.job_id": job.key,
            "zuhur.job.attempt": job.attempts,
        },
    )
    token = otel_context.attach(set_span_in_context(span))
    return Attempt(span, token)


def end(attempt: Attempt | None, job: Job, outcome: str, seconds: float) -> None:
    """Log the attempt (job id, method, attempt, outcome, duration, cache) and end its span."""
    method = job.meta.get("method", "?")
    level = logging.WARNING if outcome == "failed" else logging.INFO
    job_log.log(
        level,
        "job %s %s attempt %d %s %.1f ms",
        job.key,
        method,
        job.attempts,
        outcome,
        seconds * 1000,
        extra={
            "job_id": job.key,
            "job_method": method,
            "attempt": job.attempts,
            "outcome": outcome,
            "duration_ms": round(seconds * 1000, 3),
            "cache": job.meta.get("cache"),
        },
    )
    if attempt is None:
        return
    attempt.span.set_attribute("zuhur.job.outcome", outcome)
    if outcome == "failed":
        attempt.span.set_status(Status(StatusCode.ERROR, str(job.error or "failed")[:200]))
    attempt.span.end()
    otel_context.detach(attempt.token)  # type: ignore[arg-type]
