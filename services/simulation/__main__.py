"""Run the simulation service: ``python -m services.simulation`` (env ZUHUR_SIMULATION_*)."""

from __future__ import annotations

import asyncio

from services.common.server import configure_logging, serve
from services.simulation.config import SimulationSettings
from services.simulation.server import FULL_NAME, SimulationServicer, register
from services.simulation.warmup import warm_kernels


def main() -> None:
    settings = SimulationSettings()
    configure_logging(settings.log_level)
    servicer = SimulationServicer(settings)
    asyncio.run(serve(settings, servicer, register, FULL_NAME, warm_kernels))


if __name__ == "__main__":
    main()
