"""Run the gateway: ``python -m gateway`` (one uvicorn process; settings from ZUHUR_GATEWAY_*)."""

from __future__ import annotations

import uvicorn

from gateway.core.config import Settings
from gateway.main import create_app
from services.common import logs


def main() -> None:
    settings = Settings()
    logs.configure(settings.log_level, "zuhur-gateway")
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        log_config=None,  # uvicorn's loggers go to the root handler (services.common.logs)
        access_log=False,  # the request-id middleware writes the structured access line
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
