"""Which computing methods a job may run: the synchronous routes' own method records.

Job method names are the gRPC method names in snake_case, fits without their ``fit_``
prefix (``sweep``, ``sample_graph`` or ``sample``, ``simulate_abilities``, ``power_law``,
``scaling_law`` ..., ``analyze_mirage``); dashes are read as underscores (``power-law``).
"""

from __future__ import annotations

import re

from gateway.api.routes import abilities, fits, graphs  # noqa: F401  (they register methods)
from gateway.api.routing import COMPUTE_METHODS, ComputeMethod
from gateway.core.clients import SIMULATION
from zuhur.v1 import simulation_pb2

# The sweep route streams, so it is not built by add_compute_route: same record by hand.
SWEEP = ComputeMethod(simulation_pb2.SweepRequest, SIMULATION, "Sweep", stream_field="curve")
ALIASES = {"sample": "sample_graph"}


def job_name(rpc: str) -> str:
    """``FitPowerLaw`` -> ``power_law``; ``SimulateAbilities`` -> ``simulate_abilities``."""
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", rpc).lower()
    return snake.removeprefix("fit_")


def methods() -> dict[str, ComputeMethod]:
    """Every method a job may name, by job method name."""
    table = {job_name(m.method): m for m in (*COMPUTE_METHODS.values(), SWEEP)}
    table.update({alias: table[name] for alias, name in ALIASES.items() if name in table})
    return table


def lookup(name: str) -> ComputeMethod | None:
    """The method a job names, or None when there is none."""
    return methods().get(name.strip().lower().replace("-", "_"))
