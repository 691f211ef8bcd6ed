"""Gateway settings from the environment (prefix ZUHUR_GATEWAY_)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where the services and Redis are, and how long to wait for them."""

    model_config = SettingsConfigDict(env_prefix="ZUHUR_GATEWAY_")

    host: str = "127.0.0.1"
    port: int = 8000
    # gRPC targets; "dns:///simulation:50051" gives round_robin over every replica.
    simulation_target: str = "127.0.0.1:50051"
    fitting_target: str = "127.0.0.1:50052"
    redis_url: str = "redis://127.0.0.1:6379/0"
    cache_ttl_seconds: int = 7 * 24 * 3600
    # Cache key schema version: bump when the cached JSON layout changes (2: response bytes).
    cache_schema: int = 2
    # Redis operations give up after this long; errors count as misses (and start the
    # back-off). Not shorter: on a saturated event loop a healthy GET can take a few hundred
    # ms, and a timed-out hit becomes a computation.
    redis_timeout_seconds: float = 1.0
    # After a Redis error, skip Redis for this long instead of paying the timeout per request.
    redis_backoff_seconds: float = 2.0
    # Single flight: how long a request waits for an identical one already computing.
    single_flight_wait_seconds: float = 30.0
    # Deadlines of gRPC calls.
    simulation_deadline_seconds: float = 120.0
    fitting_deadline_seconds: float = 60.0
    health_deadline_seconds: float = 1.0
    log_level: str = "info"
    # uvicorn's per-request access log: off by default (it costs a large share of a cached
    # hit); structured per-request logging is the observability layer's.
    access_log: bool = False
    # uvicorn worker processes of `python -m gateway`: 0 means one per core. Containers run
    # one (scale with replicas); `make up` one per core.
    workers: int = 1
