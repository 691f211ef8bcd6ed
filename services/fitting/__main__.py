"""Run the fitting service: ``python -m services.fitting`` (env ZUHUR_FITTING_*)."""

from __future__ import annotations

import asyncio
import logging

from services.common.jitcache import prepare_cache


def main() -> None:
    cache = prepare_cache()  # before any kernel is imported: numba binds its cache then
    from services.common.server import configure_logging, serve
    from services.fitting.config import FittingSettings
    from services.fitting.server import FULL_NAME, FittingServicer, register
    from services.fitting.warmup import warm_kernels

    settings = FittingSettings()
    configure_logging(settings.log_level, "zuhur-fitting")
    logging.getLogger(__name__).info("kernel cache: %s", cache or "none (NUMBA_CACHE_DIR unset)")
    asyncio.run(serve(settings, FittingServicer(settings), register, FULL_NAME, warm_kernels))


if __name__ == "__main__":
    main()
