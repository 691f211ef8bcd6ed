"""Settings every gRPC service shares, read from the environment by pydantic-settings."""

from __future__ import annotations

import os

from pydantic import Field
from pydantic_settings import BaseSettings


class ServiceSettings(BaseSettings):
    """Transport settings of one gRPC service; subclasses add an env prefix and limits."""

    host: str = "127.0.0.1"
    port: int = 50051
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 9101
    # Threads that run kernels/fits (they release the GIL); default one per core.
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    # Requests running or queued at once; beyond this RESOURCE_EXHAUSTED at once.
    max_in_flight: int = Field(default=16, ge=1)
    # Seconds in-flight calls get to finish after SIGTERM.
    grace_seconds: float = 10.0
    # Servers close connections after this age so clients re-resolve and find new replicas.
    max_connection_age_ms: int = 300_000
    log_level: str = "INFO"
