"""JIT warm-up: run every kernel once on a tiny input before the service reports SERVING.

With ``cache=True`` and a writable NUMBA_CACHE_DIR a second start loads the compiled
kernels from disk instead of compiling them.
"""

from __future__ import annotations

from typing import Any

from services.simulation.abilities import METRICS, simulate_abilities
from services.simulation.graphs import sample_graph
from services.simulation.models import DegreeDistribution
from services.simulation.sweeps import Grid, sweep

_POISSON = DegreeDistribution(kind="poisson", mean=2.0)
# One tiny instance of every model, as keyword arguments of sample_graph / sweep.
_MODELS: tuple[dict[str, Any], ...] = (
    {"model": "erdos_renyi", "n": 10},
    {"model": "erdos_renyi_gnm", "n": 10},
    {"model": "configuration", "n": 20, "degrees": _POISSON},
    {"model": "square_lattice_site", "L": 4},
    {"model": "square_lattice_bond", "L": 4},
)
_CONTROL: dict[str, dict[str, Any]] = {
    "erdos_renyi": {"c": 1.0},
    "erdos_renyi_gnm": {"m": 5},
    "configuration": {},
}


def warm_kernels() -> None:
    """Compile (or load from the cache) every sampling, sweep and ability kernel."""
    for spec in _MODELS:
        control = _CONTROL.get(spec["model"], {"p": 0.5})
        sample_graph(**spec, **control, replicates=2, seed=0)
        sweep(**spec, grid=Grid(values=(0.2, 0.5)), replicates=2, seed=0)
    # One replicate on two threads: G(n, p)'s pair-space parts run concurrently (split.py).
    sample_graph("erdos_renyi", n=10, c=1.0, replicates=1, seed=0, max_workers=2)
    for vocab_size in (0, 8):  # edit distance has a separate finite-vocabulary kernel
        simulate_abilities([1e8, 1e9], k=3, items=4, metrics=METRICS, vocab_size=vocab_size, seed=0)
