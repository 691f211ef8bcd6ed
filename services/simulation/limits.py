"""Configured work limits of the simulation engine, passed into the science functions.

The server builds one ``Limits`` from its settings; science code never reads the
environment. Every check names the request field and the limit it broke.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.common.errors import require_limit

NODES_CEILING = 1_000_000_000
"""The largest ``max_nodes`` a deployment may configure: node ids are int32 in the kernels."""


@dataclass(frozen=True)
class Limits:
    """Upper bounds on one request's size; defaults fit a 2-core, 24 GiB machine."""

    max_nodes: int = 100_000_000  # n, or L*L for lattices; at most NODES_CEILING
    max_side: int = 4_096  # L of an L×L lattice
    max_replicates: int = 100_000
    max_points: int = 1_000  # grid points of a sweep
    max_edges: int = 1_000_000_000  # expected edges of one realization (or sweep substrate)
    max_work: int = 2_000_000_000  # replicates × (nodes + expected edges)
    max_cells: int = 2_000_000  # replicates × grid points of a sweep (its result array)
    # Convolution weights a sweep holds (Σ over grid points of the window width; 8 bytes
    # each, shared by the replicates): 2^24 is 128 MiB.
    max_window_cells: int = 16_777_216
    # Estimated memory of the replicates one request runs at once (models.memory_bytes):
    # 8 GiB holds n = 10^9 on one thread (ER, 8 bytes a node) or 10^8 on 10 threads.
    max_memory_bytes: int = 8 * 2**30

    def __post_init__(self) -> None:
        if not 2 <= self.max_nodes <= NODES_CEILING:
            raise ValueError(f"max_nodes must be in [2, {NODES_CEILING:g}], got {self.max_nodes}")

    def check_size(self, nodes: int, field: str = "n") -> None:
        """Refuse a graph with more nodes than ``max_nodes``."""
        require_limit(nodes, self.max_nodes, field, "nodes")

    def check_memory(self, need: float, field: str, what: str) -> None:
        """Refuse a request whose estimated memory (bytes) is over ``max_memory_bytes``."""
        require_limit(need, self.max_memory_bytes, field, f"estimated memory in bytes: {what}")

    def check_work(self, nodes: int, edges: float, replicates: int) -> None:
        """Refuse too many replicates, too many edges, or too much total work."""
        require_limit(replicates, self.max_replicates, "replicates")
        require_limit(edges, self.max_edges, "n", "expected edges of one realization")
        require_limit(
            replicates * (nodes + edges),
            self.max_work,
            "replicates",
            "total work = replicates × (nodes + expected edges)",
        )


DEFAULT_LIMITS = Limits()
