"""Run the simulation service: ``python -m services.simulation`` (env ZUHUR_SIMULATION_*)."""

from __future__ import annotations

import asyncio
import logging

from services.common.jitcache import prepare_cache


def main() -> None:
    cache = prepare_cache()  # before any kernel is imported: numba binds its cache then
    from services.common.server import configure_logging, serve
    from services.simulation.config import SimulationSettings
    from services.simulation.server import FULL_NAME, SimulationServicer, register
    from services.simulation.warmup import warm_kernels

    settings = SimulationSettings()
    configure_logging(settings.log_level, "zuhur-simulation")
    logging.getLogger(__name__).info("kernel cache: %s", cache or "none (NUMBA_CACHE_DIR unset)")
    servicer = SimulationServicer(settings)
    asyncio.run(serve(settings, servicer, register, FULL_NAME, warm_kernels))


if __name__ == "__main__":
    main()
