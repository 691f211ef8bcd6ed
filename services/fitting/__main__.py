"""Run the fitting service: ``python -m services.fitting`` (env ZUHUR_FITTING_*)."""

from __future__ import annotations

import asyncio

from services.common.server import configure_logging, serve
from services.fitting.config import FittingSettings
from services.fitting.server import FULL_NAME, FittingServicer, register, warm_up


def main() -> None:
    settings = FittingSettings()
    configure_logging(settings.log_level)
    asyncio.run(serve(settings, FittingServicer(settings), register, FULL_NAME, warm_up))


if __name__ == "__main__":
    main()
