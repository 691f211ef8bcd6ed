"""Run the gateway: ``python -m gateway`` (one uvicorn process; settings from ZUHUR_GATEWAY_*)."""

from __future__ import annotations

import uvicorn

from gateway.core.config import Settings
from gateway.main import create_app


def main() -> None:
    settings = Settings()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
