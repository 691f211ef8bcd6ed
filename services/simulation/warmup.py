"""JIT warm-up: run every kernel once on a tiny input before the service reports SERVING.

With ``cache=True`` and a writable NUMBA_CACHE_DIR a second start loads the compiled
kernels from disk instead of compiling them.
"""

from __future__ import annotations

from services.simulation.graphs import sample_graph
from services.simulation.models import DegreeDistribution


def warm_kernels() -> None:
    """Compile (or load from the cache) each model's sampling kernel."""
    sample_graph("erdos_renyi", n=10, c=1.0, replicates=2, seed=0)
    sample_graph("erdos_renyi_gnm", n=10, m=5, seed=0)
    sample_graph(
        "configuration", n=20, degrees=DegreeDistribution(kind="poisson", mean=2.0), seed=0
    )
    sample_graph("square_lattice_site", L=4, p=0.5, seed=0)
    sample_graph("square_lattice_bond", L=4, p=0.5, seed=0)
