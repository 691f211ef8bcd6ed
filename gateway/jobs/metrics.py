"""Job Prometheus metrics: queue depth, jobs running, finished by status, duration, retries.

The worker exposes them (``ZUHUR_JOBS_METRICS_PORT``); the gateway counts submissions.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from services.common.metrics import DURATION_BUCKETS

JOBS_SUBMITTED = Counter(
    "zuhur_jobs_submitted_total",
    "Jobs accepted by POST /v1/jobs, by method and whether they joined an identical job.",
    ["method", "joined"],
)
JOBS_QUEUED = Gauge(
    "zuhur_jobs_queued",
    "Jobs waiting in the queue (retries waiting out their back-off included).",
)
JOBS_ACTIVE = Gauge("zuhur_jobs_active", "Jobs running on any worker of the queue.")
JOBS_RUNNING = Gauge("zuhur_jobs_running", "Jobs running in this worker process.")
JOBS_FINISHED = Counter(
    "zuhur_jobs_finished_total",
    "Jobs finished, by method and final status (succeeded, failed, cancelled).",
    ["method", "status"],
)
JOB_DURATION = Histogram(
    "zuhur_job_attempt_duration_seconds",
    "Time one attempt of a job ran in this worker, by method and outcome.",
    ["method", "outcome"],
    buckets=(*DURATION_BUCKETS, 900.0, 1800.0, 3600.0),
)
JOB_RETRIES = Counter(
    "zuhur_job_retries_total",
    "Attempts beyond a job's first that were started (after an error or a lost worker).",
    ["method"],
)
