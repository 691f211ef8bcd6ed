"""Run the gateway: ``python -m gateway`` (settings from ZUHUR_GATEWAY_*).

uvicorn with httptools (plus a header read deadline, gateway.core.headertimeout) and uvloop,
serving HTTPS when ZUHUR_TLS_* name a certificate (services.common.tls);
``ZUHUR_GATEWAY_WORKERS`` worker processes (0: one per core; containers keep the default 1
and scale with replicas). uvicorn's access log is off: the
request-id middleware writes one structured line per request instead (ZUHUR_GATEWAY_ACCESS_LOG).
Several workers share the Redis cache and its
single-flight locks, so a result is still computed once across them, and Prometheus
multiprocess mode (a fresh ``PROMETHEUS_MULTIPROC_DIR`` unless one is given), so
``/metrics`` reports the whole server rather than whichever worker answered.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import uvicorn

from gateway.core.config import Settings
from gateway.core.headertimeout import PROTOCOL
from gateway.main import create_app
from services.common import logs
from services.common.tls import TlsSettings


def worker_count(settings: Settings) -> int:
    """Configured workers; 0 means one per core this process may use."""
    return settings.workers or len(os.sched_getaffinity(0))


def main() -> None:
    settings = Settings()
    tls = TlsSettings()  # a missing certificate stops the start here, naming the variable
    logs.configure(settings.log_level, "zuhur-gateway")
    workers = worker_count(settings)
    server: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "log_config": None,  # uvicorn's loggers go to the root handler (services.common.logs)
        "access_log": False,  # the request-id middleware writes the structured access line
        "loop": "uvloop",
        "http": PROTOCOL,
        "timeout_graceful_shutdown": 10,
        **tls.uvicorn_options(),
    }
    if workers == 1:
        uvicorn.run(create_app(settings), **server)
    else:  # each worker process builds its own app (channels, Redis pools, logging) from the
        # env and writes its metrics where /metrics of any worker adds them all up.
        os.environ.setdefault(
            "PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="zuhur-gateway-metrics-")
        )
        uvicorn.run(
            "gateway.main:create_worker_app",
            factory=True,
            workers=workers,
            timeout_worker_healthcheck=30,  # a cold import on a busy machine is slow
            **server,
        )


if __name__ == "__main__":
    main()
