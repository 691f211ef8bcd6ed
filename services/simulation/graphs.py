"""SampleGraph: direct sampling of independent realizations of a graph model at one control.

API (stable; the gRPC servicer maps it 1:1)::

    sample_graph(model="erdos_renyi", *, n=None, p=None, c=None, m=None, L=None, phi=None,
                 degrees=None, replicates=1, seed, limits=DEFAULT_LIMITS,
                 executor=None, max_workers=None, control=None) -> SampleResult

    model         erdos_renyi            n, exactly one of p (edge probability) or c (mean
                                         degree; p = c/(n-1))
                  erdos_renyi_gnm        n, m (exactly m distinct edges, uniform)
                  configuration          n, degrees (DegreeDistribution), phi (bond occupation,
                                         default 1: the whole multigraph)
                  square_lattice_site    L (L×L torus), p (site occupation)
                  square_lattice_bond    L, p (bond occupation)
    replicates    >= 1; replicate r draws from rng.stream_state(seed, r) (erdos_renyi: from
                  its direct.GNP_PARTS sub-streams, rng.substream_states, one per fixed part
                  of the pair space), so rows are bit-identical whatever the
                  threads/executor
    seed          int in [0, 2**64)
    executor      optional concurrent.futures.Executor (threads) to run replicate blocks on;
                  or max_workers > 1 for a private thread pool. Rows come back in order.
                  erdos_renyi with fewer replicates than threads runs each replicate's parts
                  on separate threads (split.py); otherwise whole replicates per thread.
    control       optional services.common.control.RunControl: progress and cancellation
                  (kernels poll it per part, per 65536 edges or per replicate; Cancelled)
    cluster       optional cluster.DaskBlocks: enough replicates run as Dask tasks (same rows)

    SampleResult.replicates: tuple of ReplicateStats(edges, largest, second_largest,
        components) — edges of the realized graph (lattice site: bonds between occupied
        sites; configuration: retained stubs pairs, self-loops and multi-edges included);
        component sizes in nodes (lattice site: clusters of occupied sites only).
    SampleResult.largest_fraction: MeanStd(mean, std) of largest/nodes over replicates,
        std the population std (ddof=0; 0 for one replicate).
    SampleResult.edge_lists: with ``edge_lists=True`` (erdos_renyi, n <= EDGE_LIST_MAX_NODES,
        replicates × expected edges <= EDGE_LIST_MAX_EDGES) each replicate's edges,
        int32[m, 2], drawn from the same sub-streams as its statistics; else ().
    SampleResult.p: the edge/bond/site probability used (ER: c/(n-1) when c was given;
        configuration: phi); None for erdos_renyi_gnm.

Raises InvalidArgument naming the field (model, n, p, c, m, L, phi, degrees.*, replicates,
seed) and LimitExceeded (a subclass) for n / L / replicates / expected edges / work over
``limits``.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field

import numpy as np

from services.common.control import RunControl
from services.common.errors import require
from services.simulation.cluster import DaskBlocks
from services.simulation.kernels import direct, unionfind
from services.simulation.kernels.rng import substream_states
from services.simulation.limits import DEFAULT_LIMITS, Limits
from services.simulation.models import (
    CONFIGURATION,
    ERDOS_RENYI,
    ERDOS_RENYI_GNM,
    SQUARE_LATTICE_BOND,
    SQUARE_LATTICE_SITE,
    DegreeDistribution,
    Substrate,
    check_memory,
    degree_pmf,
    mean_degree,
    require_int,
    require_real,
    resolve_substrate,
)
from services.simulation.replicates import run_replicates
from services.simulation.split import gnp_threaded, pool_width, split_across_threads
from services.simulation.theory import configuration_giant_fraction, er_giant_fraction

SEED_MAX = 2**64 - 1
# Edge lists are for drawing a graph, not for bulk export: small graphs only.
EDGE_LIST_MAX_NODES = 2_000
EDGE_LIST_MAX_EDGES = 100_000  # replicates × expected edges


@dataclass(frozen=True)
class ReplicateStats:
    """One realization: its edge count and the sizes/count of its components."""

    edges: int
    largest: int
    second_largest: int
    components: int


@dataclass(frozen=True)
class MeanStd:
    """Mean and population standard deviation over replicates."""

    mean: float
    std: float


@dataclass(frozen=True)
class SampleResult:
    """Per-replicate statistics and the largest-component fraction over replicates."""

    model: str
    nodes: int
    p: float | None
    seed: int
    replicates: tuple[ReplicateStats, ...]
    largest_fraction: MeanStd
    table: np.ndarray = field(repr=False, compare=False)  # int64[R, 4], columns as above
    # Mean-field largest fraction (n -> infinity) at this control; None for the lattices.
    theory_largest_fraction: float | None = None
    # Each replicate's edges (int32[m, 2]) when asked for; () otherwise.
    edge_lists: tuple[np.ndarray, ...] = field(default=(), repr=False, compare=False)


def require_seed(seed: object) -> int:
    """The seed as an int in [0, 2**64), else InvalidArgument on ``seed``."""
    return require_int(seed, "seed", 0, SEED_MAX)


def require_unused(model: str, **fields: object) -> None:
    """Reject fields the model does not take, naming the first one given."""
    for name, value in fields.items():
        require(value is None, name, f"is not used by model {model}")


@dataclass(frozen=True)
class _Plan:
    """A validated request: the kernel over stream-state blocks and its size."""

    kernel: Callable[[np.ndarray, np.ndarray], np.ndarray]
    p: float | None
    edges: float  # expected edges of one realization
    theory: float | None = None  # mean-field largest fraction as n -> infinity
    parts: int = 0  # > 0: the kernel takes (k, parts, 4) sub-stream states (run_replicates)
    # (seed, count, executor, max_workers, control) -> rows, each replicate's parts on threads
    threaded: (
        Callable[[int, int, Executor | None, int | None, RunControl | None], np.ndarray] | None
    ) = None


def _plan(
    sub: Substrate,
    *,
    p: float | None,
    c: float | None,
    m: int | None,
    phi: float | None,
) -> _Plan:
    """Check the control fields of ``sub.model`` and bind its direct-sampling kernel."""
    n = sub.nodes
    if sub.model == ERDOS_RENYI:
        require_unused(sub.model, m=m, phi=phi)
        require(
            (p is None) != (c is None),
            "c" if p is not None else "p",
            "give exactly one of p (edge probability) and c (mean degree)",
        )
        if p is not None:
            prob = require_real(p, "p", 0.0, 1.0)
        else:
            prob = min(1.0, require_real(c, "c", 0.0, float(n - 1)) / (n - 1))
        theory = float(er_giant_fraction(prob * (n - 1))[0])
        return _Plan(
            lambda st, mt: direct.gnp_batch(n, prob, st, mt),
            prob,
            prob * sub.pairs,
            theory,
            parts=direct.GNP_PARTS,
            threaded=lambda seed, count, ex, mw, ctl: gnp_threaded(
                n, prob, seed, count, executor=ex, max_workers=mw, control=ctl
            ),
        )
    if sub.model == ERDOS_RENYI_GNM:
        require_unused(sub.model, p=p, c=c, phi=phi)
        require(m is not None, "m", "is required for model erdos_renyi_gnm")
        edges = require_int(m, "m", 0, sub.pairs)
        theory = float(er_giant_fraction(2.0 * edges / n)[0])
        return _Plan(lambda st, mt: direct.gnm_batch(n, edges, st, mt), None, float(edges), theory)
    if sub.model == CONFIGURATION:
        require_unused(sub.model, p=p, c=c, m=m)
        occ = 1.0 if phi is None else require_real(phi, "phi", 0.0, 1.0)
        assert sub.degrees is not None
        ks, pmf = degree_pmf(sub.degrees)
        cdf = np.cumsum(pmf)
        cdf[-1] = 1.0
        return _Plan(
            lambda st, mt: direct.configuration_batch(n, ks, cdf, occ, st, mt),
            occ,
            0.5 * n * mean_degree(sub.degrees),
            float(configuration_giant_fraction(sub.degrees, occ)[0]),
        )
    require_unused(sub.model, c=c, m=m, phi=phi)
    require(p is not None, "p", f"is required for model {sub.model}")
    occ = require_real(p, "p", 0.0, 1.0)
    assert sub.L is not None
    side = sub.L
    if sub.model == SQUARE_LATTICE_SITE:
        return _Plan(lambda st, mt: direct.lattice_site_batch(side, occ, st, mt), occ, 2.0 * n)
    assert sub.model == SQUARE_LATTICE_BOND
    return _Plan(lambda st, mt: direct.lattice_bond_batch(side, occ, st, mt), occ, 2.0 * n)


def sample_graph(
    model: str = ERDOS_RENYI,
    *,
    n: int | None = None,
    p: float | None = None,
    c: float | None = None,
    m: int | None = None,
    L: int | None = None,
    phi: float | None = None,
    degrees: DegreeDistribution | None = None,
    replicates: int = 1,
    seed: int,
    limits: Limits = DEFAULT_LIMITS,
    executor: Executor | None = None,
    max_workers: int | None = None,
    control: RunControl | None = None,
    cluster: DaskBlocks | None = None,
    edge_lists: bool = False,
) -> SampleResult:
    """Draw ``replicates`` independent realizations and summarize their components."""
    sub = resolve_substrate(model, n=n, L=L, degrees=degrees, limits=limits)
    plan = _plan(sub, p=p, c=c, m=m, phi=phi)
    reps = require_int(replicates, "replicates", 1)
    seed_v = require_seed(seed)
    limits.check_work(sub.nodes, plan.edges, reps)
    check_memory(sub, plan.edges, min(reps, pool_width(executor, max_workers)), limits)
    if edge_lists:
        _check_edge_lists(sub.model, sub.nodes, plan.edges, reps)
    if control is not None:
        control.begin(reps)
    remote = cluster is not None and cluster.takes(reps)
    if (
        plan.threaded is not None
        and not remote
        and split_across_threads(reps, executor, max_workers)
    ):
        table = plan.threaded(seed_v, reps, executor, max_workers, control)
    else:
        table = run_replicates(
            plan.kernel,
            seed_v,
            0,
            reps,
            executor=executor,
            max_workers=max_workers,
            parts=plan.parts,
            control=control,
            cluster=cluster,
        )
    frac = table[:, 1].astype(np.float64) / sub.nodes
    rows = tuple(ReplicateStats(*(int(x) for x in row)) for row in table)
    return SampleResult(
        model=sub.model,
        nodes=sub.nodes,
        p=plan.p,
        seed=seed_v,
        replicates=rows,
        largest_fraction=MeanStd(float(frac.mean()), float(frac.std())),
        table=table,
        theory_largest_fraction=plan.theory,
        edge_lists=_edge_lists(sub.nodes, plan.p, seed_v, reps) if edge_lists else (),
    )


def _check_edge_lists(model: str, nodes: int, edges: float, replicates: int) -> None:
    """Edge lists only for small Erdős–Rényi graphs, naming ``edge_lists`` otherwise."""
    require(model == ERDOS_RENYI, "edge_lists", "are available for model erdos_renyi only")
    require(
        nodes <= EDGE_LIST_MAX_NODES,
        "edge_lists",
        f"need n <= {EDGE_LIST_MAX_NODES}, got {nodes}",
    )
    require(
        replicates * edges <= EDGE_LIST_MAX_EDGES,
        "edge_lists",
        f"need replicates × expected edges <= {EDGE_LIST_MAX_EDGES}, got {replicates * edges:g}",
    )


def _edge_lists(n: int, p: float | None, seed: int, replicates: int) -> tuple[np.ndarray, ...]:
    """The G(n, p) edge list of each replicate, from the sub-streams ``gnp_batch`` drew
    its statistics from (so the drawing and the numbers are the same graph)."""
    assert p is not None
    states = substream_states(seed, 0, replicates, direct.GNP_PARTS)
    return tuple(direct.gnp_split_edges(n, p, states[r]) for r in range(replicates))


def component_sizes(n: int, edges: np.ndarray) -> np.ndarray:
    """Component sizes (decreasing, int64) of the graph on n nodes with an (m, 2) edge list.

    The same union–find as the samplers; isolated nodes are components of size 1.
    """
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    require(e.size == 0 or (e.min() >= 0 and e.max() < n), "edges", f"node ids must be in [0, {n})")
    return unionfind.component_sizes(
        n, np.ascontiguousarray(e[:, 0]), np.ascontiguousarray(e[:, 1])
    )
