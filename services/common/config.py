"""Settings every gRPC service shares, read from the environment by pydantic-settings."""

from __future__ import annotations

import os

from pydantic import Field
from pydantic_settings import BaseSettings

# The gateway's request body limit (ZUHUR_GATEWAY_MAX_BODY_BYTES) by default.
DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024


def message_limit(body_bytes: int) -> int:
    """gRPC message size that holds any request a JSON body of ``body_bytes`` can become.

    The densest JSON number, ``0,``, is 2 bytes and becomes an 8-byte packed double (a
    negative varint is at most 10 bytes for ``-1,``'s 3), so protobuf is at most 4x the JSON,
    plus headroom for the envelope. Anything the gateway admits fits, so the service
    answers it (a 422 naming the field and its limit), never the transport's
    RESOURCE_EXHAUSTED.
    """
    return 4 * body_bytes + 1024 * 1024


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
    # Largest request message accepted (gRPC max_receive_message_length); the default
    # holds whatever the gateway's default body limit admits (see message_limit).
    max_message_bytes: int = Field(default=message_limit(DEFAULT_MAX_BODY_BYTES), ge=1024)
    log_level: str = "INFO"
