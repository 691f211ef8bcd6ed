"""Job queue settings from the environment (prefix ZUHUR_JOBS_), shared by gateway and worker."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class JobSettings(BaseSettings):
    """Where the jobs Redis is, and how jobs are run, retried, kept and watched."""

    model_config = SettingsConfigDict(env_prefix="ZUHUR_JOBS_")

    # The jobs Redis: persistent (AOF) and noeviction, never the allkeys-lru cache.
    redis_url: str = "redis://127.0.0.1:6380/0"
    # ZUHUR_REDIS_PASSWORD, as for the cache Redis.
    redis_password: str | None = Field(
        default=None, validation_alias=AliasChoices("ZUHUR_REDIS_PASSWORD", "redis_password")
    )
    queue_name: str = "zuhur"
    # Jobs one worker process runs at once (each is one upstream call).
    concurrency: int = 4
    # Upper bound of one attempt's upstream call (the synchronous routes allow 120 s).
    deadline_seconds: float = 6 * 3600.0
    # A running job refreshes its record this often; one silent for heartbeat_seconds
    # belongs to a dead worker and is retried by the next sweep.
    heartbeat_seconds: int = 10
    sweep_seconds: int = 5
    # On SIGTERM a worker takes no new job and gives its running ones this long to finish;
    # the rest go back to the queue without using up an attempt (keep it under the
    # container's stop grace: compose 15 s, k8s 20 s).
    drain_seconds: float = 10.0
    # How often a worker looks for cancelled jobs (bounds cancel latency).
    abort_poll_seconds: float = 0.2
    # Attempts per job (the first included); retries back off exponentially with jitter.
    attempts: int = 5
    retry_delay_seconds: float = 1.0
    retry_max_delay_seconds: float = 30.0
    # Finished jobs (and their results) are kept this long.
    ttl_seconds: int = 7 * 24 * 3600
    # Progress is written at most this often; the SSE stream polls this often.
    progress_interval_seconds: float = 0.25
    events_poll_seconds: float = 0.2
    # How long a Redis operation keeps retrying while Redis restarts.
    redis_retry_seconds: float = 30.0
    # Worker Prometheus endpoint.
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 9103
    log_level: str = "info"
