"""Graph models (substrates) the engine knows, and the validation of their parameters.

One place turns request fields into a checked ``Substrate``; both ``graphs.sample_graph``
and ``sweeps.sweep`` use it, so a field is validated, and named in errors, the same way
by every method.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from services.common.errors import require, require_limit
from services.simulation.limits import Limits

ERDOS_RENYI = "erdos_renyi"
ERDOS_RENYI_GNM = "erdos_renyi_gnm"
CONFIGURATION = "configuration"
SQUARE_LATTICE_SITE = "square_lattice_site"
SQUARE_LATTICE_BOND = "square_lattice_bond"
MODELS = (
    ERDOS_RENYI,
    ERDOS_RENYI_GNM,
    CONFIGURATION,
    SQUARE_LATTICE_SITE,
    SQUARE_LATTICE_BOND,
)
DEGREE_KINDS = ("poisson", "power_law", "regular")


@dataclass(frozen=True)
class DegreeDistribution:
    """Degree law of the configuration model: poisson(mean), power_law(gamma, k_min, k_max)
    or regular(k). Errors name fields ``degrees.<name>``."""

    kind: str
    mean: float | None = None
    gamma: float | None = None
    k_min: int | None = None
    k_max: int | None = None
    k: int | None = None


@dataclass(frozen=True)
class Substrate:
    """A validated model and size: ``nodes`` is n, or L*L for the lattices."""

    model: str
    nodes: int
    L: int | None = None
    degrees: DegreeDistribution | None = None

    @property
    def is_lattice(self) -> bool:
        return self.model in (SQUARE_LATTICE_SITE, SQUARE_LATTICE_BOND)

    @property
    def size_field(self) -> str:
        """The request field that sets ``nodes``: L for the lattices, else n."""
        return "L" if self.is_lattice else "n"

    @property
    def pairs(self) -> int:
        """Number of node pairs n(n-1)/2 (the complete graph's edges)."""
        return self.nodes * (self.nodes - 1) // 2


NODE_BYTES = {
    ERDOS_RENYI: 8,  # int32 forest + int32 cluster-size histogram (sweeps; samples use 4)
    ERDOS_RENYI_GNM: 8,
    CONFIGURATION: 16,  # + int64 degrees; the stubs are in EDGE_BYTES
    SQUARE_LATTICE_SITE: 24,  # site order, occupancy, wrap offsets dx dy, forest, histogram
    SQUARE_LATTICE_BOND: 28,  # bond order (2 a site), dx dy, forest, histogram
}
"""Bytes per node one running replicate holds (the kernels' O(n) arrays), by model."""

EDGE_BYTES = {
    ERDOS_RENYI: 2,  # the threaded sample holds ~3/16 of its int32 pairs (split.AHEAD + 1)
    CONFIGURATION: 8,  # two int32 stubs an edge
}
"""Bytes per expected edge one running replicate holds, where it stores edges at all."""


def memory_bytes(sub: Substrate, edges: float, at_once: int) -> float:
    """Estimated peak bytes of ``at_once`` replicates of ``sub`` with ``edges`` expected edges
    each running at the same time (the replicates a request's threads hold together)."""
    per = NODE_BYTES[sub.model] * sub.nodes + EDGE_BYTES.get(sub.model, 0) * edges
    return float(at_once) * per


def check_memory(sub: Substrate, edges: float, at_once: int, limits: Limits) -> None:
    """Refuse (naming n or L) a request over the configured memory budget, before it runs."""
    limits.check_memory(
        memory_bytes(sub, edges, at_once),
        sub.size_field,
        f"{at_once} replicate(s) at once × ({NODE_BYTES[sub.model]} B a node × {sub.nodes:g}"
        f" nodes + {EDGE_BYTES.get(sub.model, 0)} B an edge × {edges:g} edges)",
    )


def require_int(value: Any, field: str, low: int, high: int | None = None) -> int:
    """``value`` as an int in [low, high], else InvalidArgument naming ``field``."""
    ok = isinstance(value, int | np.integer) and not isinstance(value, bool)
    if not ok and isinstance(value, float) and math.isfinite(value) and value.is_integer():
        ok = True
    require(ok, field, f"must be a whole number, got {value!r}")
    v = int(value)
    require(v >= low, field, f"must be at least {low}, got {v}")
    if high is not None:
        require(v <= high, field, f"must be at most {high}, got {v}")
    return v


def require_real(
    value: Any, field: str, low: float | None = None, high: float | None = None
) -> float:
    """``value`` as a finite float in [low, high], else InvalidArgument naming ``field``."""
    ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    require(ok, field, f"must be a number, got {value!r}")
    v = float(value)
    require(math.isfinite(v), field, f"must be a finite number, got {v}")
    if low is not None:
        require(v >= low, field, f"must be at least {low:g}, got {v:g}")
    if high is not None:
        require(v <= high, field, f"must be at most {high:g}, got {v:g}")
    return v


def resolve_substrate(
    model: str,
    *,
    n: int | None,
    L: int | None,
    degrees: DegreeDistribution | None,
    limits: Limits,
) -> Substrate:
    """Check the model name and its size/shape fields; return the ``Substrate``."""
    require(model in MODELS, "model", f"must be one of {', '.join(MODELS)}; got {model!r}")
    if model in (SQUARE_LATTICE_SITE, SQUARE_LATTICE_BOND):
        require(L is not None, "L", f"is required for model {model}")
        require(n is None, "n", f"is not used by model {model} (give L)")
        side = require_int(L, "L", 2)
        require_limit(side, limits.max_side, "L", "lattice side")
        limits.check_size(side * side, "L")
        return Substrate(model, side * side, L=side)
    require(n is not None, "n", f"is required for model {model}")
    require(L is None, "L", f"is not used by model {model} (give n)")
    nodes = require_int(n, "n", 2)
    limits.check_size(nodes, "n")
    if model == CONFIGURATION:
        require(degrees is not None, "degrees", "is required for model configuration")
        assert degrees is not None
        return Substrate(model, nodes, degrees=_check_degrees(degrees, nodes))
    require(degrees is None, "degrees", f"is only used by model configuration, not {model}")
    return Substrate(model, nodes)


def _check_degrees(d: DegreeDistribution, n: int) -> DegreeDistribution:
    """Validate the degree law's own fields (``degrees.*``) for a graph of n nodes."""
    require(
        d.kind in DEGREE_KINDS,
        "degrees.kind",
        f"must be one of {', '.join(DEGREE_KINDS)}; got {d.kind!r}",
    )
    unused = {
        "poisson": ("gamma", "k_min", "k_max", "k"),
        "power_law": ("mean", "k"),
        "regular": ("mean", "gamma", "k_min", "k_max"),
    }[d.kind]
    for name in unused:
        require(getattr(d, name) is None, f"degrees.{name}", f"is not used by {d.kind} degrees")
    if d.kind == "poisson":
        require(d.mean is not None, "degrees.mean", "is required for poisson degrees")
        mean = require_real(d.mean, "degrees.mean", 0.0, float(n - 1))
        return DegreeDistribution("poisson", mean=mean)
    if d.kind == "regular":
        require(d.k is not None, "degrees.k", "is required for regular degrees")
        k = require_int(d.k, "degrees.k", 0, n - 1)
        require((n * k) % 2 == 0, "degrees.k", f"n·k must be even (n={n}, k={k})")
        return DegreeDistribution("regular", k=k)
    require(d.gamma is not None, "degrees.gamma", "is required for power_law degrees")
    require(d.k_min is not None, "degrees.k_min", "is required for power_law degrees")
    gamma = require_real(d.gamma, "degrees.gamma", 0.0, 20.0)
    k_min = require_int(d.k_min, "degrees.k_min", 1, n - 1)
    k_max = require_int(d.k_max if d.k_max is not None else n - 1, "degrees.k_max", k_min, n - 1)
    return DegreeDistribution("power_law", gamma=gamma, k_min=k_min, k_max=k_max)


def degree_pmf(d: DegreeDistribution) -> tuple[np.ndarray, np.ndarray]:
    """(k values, probabilities) of a validated degree law; Poisson cut where its tail < 1e-16."""
    if d.kind == "regular":
        assert d.k is not None
        return np.array([d.k], dtype=np.int64), np.array([1.0])
    if d.kind == "poisson":
        assert d.mean is not None
        top = int(stats.poisson.isf(1e-16, d.mean)) + 2 if d.mean > 0 else 0
        ks = np.arange(top + 1, dtype=np.int64)
        pmf = stats.poisson.pmf(ks, d.mean)
        return ks, pmf / pmf.sum()
    assert d.gamma is not None and d.k_min is not None and d.k_max is not None
    ks = np.arange(d.k_min, d.k_max + 1, dtype=np.int64)
    w = np.exp(-d.gamma * np.log(ks.astype(np.float64)))
    return ks, w / w.sum()


def mean_degree(d: DegreeDistribution) -> float:
    """<k> of the degree law."""
    ks, pmf = degree_pmf(d)
    return float(np.dot(ks, pmf))


def configuration_threshold(d: DegreeDistribution) -> float:
    """Bond-percolation threshold phi_c = <k>/(<k²> - <k>) (inf when there is no giant)."""
    ks, pmf = degree_pmf(d)
    k1 = float(np.dot(ks, pmf))
    k2 = float(np.dot(ks.astype(np.float64) ** 2, pmf))
    return k1 / (k2 - k1) if k2 > k1 else math.inf
