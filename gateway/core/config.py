"""Gateway settings from the environment (prefix ZUHUR_GATEWAY_)."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.config import DEFAULT_MAX_BODY_BYTES

# Not a secret: used only when ZUHUR_GATEWAY_CACHE_HMAC_KEY is unset (``make up``).
DEV_CACHE_HMAC_KEY = "zuhur-development-cache-key"


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
    # Cache key schema version: bump when the cached layout changes (2: response bytes).
    cache_schema: int = 2
    # Password of the cache Redis (shared with the jobs Redis): ZUHUR_REDIS_PASSWORD.
    redis_password: str | None = Field(
        default=None, validation_alias=AliasChoices("ZUHUR_REDIS_PASSWORD", "redis_password")
    )
    # Secret that authenticates cached values (HMAC); the gateway and the job worker must
    # share it. Unset: a development key, logged as such at startup.
    cache_hmac_key: str = DEV_CACHE_HMAC_KEY
    # Redis operations give up after this long; errors count as misses (and start the
    # back-off). Not shorter: on a saturated event loop a healthy GET can take a few hundred
    # ms, and a timed-out hit becomes a computation.
    redis_timeout_seconds: float = 1.0
    # Connections of the cache's pool: past this many concurrent commands a request waits
    # (up to redis_pool_timeout_seconds) for one instead of failing into a recomputation.
    redis_max_connections: int = Field(default=64, ge=1)
    redis_pool_timeout_seconds: float = Field(default=5.0, gt=0)
    # Hot results kept in each gateway process for this long (0: off), at most this many
    # bytes: a popular hit costs no Redis round trip. A value deleted or expired in Redis
    # can be served from here for at most near_cache_seconds.
    near_cache_seconds: float = Field(default=2.0, ge=0)
    near_cache_max_bytes: int = Field(default=32 * 1024 * 1024, ge=0)
    # After a Redis error, skip Redis for this long instead of paying the timeout per request.
    redis_backoff_seconds: float = 2.0
    # Single flight: how long a request waits for an identical one already computing.
    single_flight_wait_seconds: float = 30.0
    # Deadlines of gRPC calls.
    simulation_deadline_seconds: float = 120.0
    fitting_deadline_seconds: float = 60.0
    health_deadline_seconds: float = 1.0
    # A job's request is checked by its service (validate-only, no work) before it is
    # queued; past this deadline the job is accepted anyway and its worker finds out.
    job_check_deadline_seconds: float = Field(default=2.0, gt=0)
    # Request bodies larger than this are refused (413) while being read, before buffering;
    # the gRPC message limits on both sides derive from it (services.common.config).
    max_body_bytes: int = Field(default=DEFAULT_MAX_BODY_BYTES, ge=1024)
    # A request line and headers not complete this long after the connection opened (or
    # the request's first byte) get a 408 and the connection closes (slowloris).
    header_read_timeout_seconds: float = Field(default=10.0, gt=0)
    # A body that stalls this long between chunks is refused (408), freeing the connection.
    body_read_timeout_seconds: float = Field(default=30.0, gt=0)
    # API keys (comma-separated) and/or a file of them (a mounted Secret); none: no auth.
    api_keys: str = ""
    api_keys_file: str | None = None
    # Per-client quotas in Redis (client = API key, or address when keys are off); off
    # when empty / 0. Rate in the `limits` notation, e.g. "600/minute".
    rate_limit: str = ""
    max_concurrent_per_client: int = Field(default=0, ge=0)
    log_level: str = "info"
    # One structured line per request (zuhur.access logger; probes and /metrics at DEBUG).
    # uvicorn's own access log is always off: this line replaces it.
    access_log: bool = True
    # Of cached hits (the bulk of traffic; a line costs as much as the hit) only one in this
    # many is logged, with "sampled": N; every other request is always logged. 1: every hit.
    access_log_hit_every: int = Field(default=100, ge=1)
    # uvicorn worker processes of `python -m gateway`: 0 means one per core. Containers run
    # one (scale with replicas); `make up` one per core.
    workers: int = 1
