"""Sweep: whole percolation curves by Newman–Ziff, one pass per replicate, any grid.

API (stable; the gRPC servicer maps it 1:1)::

    sweep(model="erdos_renyi", *, n=None, L=None, degrees=None, grid, replicates=1, seed,
          limits=DEFAULT_LIMITS, executor=None, max_workers=None, progress=None, control=None,
          cluster=None)
        -> SweepResult

    grid          Grid(start, stop, points) — linspace, points >= 1, start <= stop — or
                  Grid(values=(...)) — any order, returned in that order
    control       per model (SweepResult.control names it):
                  erdos_renyi        "c"   mean degree, p = c/(n-1), in [0, n-1]; exact G(n, p)
                                           (random pairs, Poisson convolution: see
                                           kernels.newman_ziff.er_sweep_weighted)
                  erdos_renyi_gnm    "c"   mean degree of exactly m = round(c·n/2) edges
                  configuration      "phi" bond occupation in [0, 1] on the multigraph
                  square_lattice_*   "p"   site / bond occupation in [0, 1], L×L torus
    progress      progress(done, total) after each finished replicate block (from the calling
                  thread; total = replicates of the request)
    control       optional services.common.control.RunControl: fine-grained progress (its
                  ``done()`` counts replicates, the current ones by their occupations) and
                  cancellation (kernels stop within one 512-occupation block; Cancelled)

    cluster       optional cluster.DaskBlocks: enough replicates run as Dask tasks on its
                  workers, merged in replicate order (the same bytes)

    Batches: sweep_batch(..., first, count) runs replicates first..first+count-1 and returns a
    SweepBatch (per-replicate canonical moments); merge_batches(batches) concatenates
    contiguous batches in replicate order and summarize(batch) gives the SweepResult — for any
    split, bit-identical to sweep(...) (replicate r depends on (seed, r) only).

    SweepResult.points[j]: SweepPoint(control, largest_fraction, second_largest_fraction,
        susceptibility, clusters_per_node, wrapping) — each a MeanStd over replicates of the
        canonical ensemble at that control (std = sqrt(<Q²> - <Q>²), the spread of Q between
        realizations); susceptibility = mean finite-cluster size Σ's²/Σ's without the largest;
        wrapping = probability that a cluster wraps the torus (lattices; None otherwise).
    SweepResult.theory: TheoryPoint(control, largest_fraction) on the same grid (ER and
        G(n,m): Lambert-W; configuration: generating functions); empty for lattices.
    SweepResult.threshold: the model's critical control (ER 1, configuration <k>/(<k²>-<k>),
        square site 0.592746…, bond 0.5).

Raises InvalidArgument naming the field (model, n, L, degrees.*, grid, grid.start,
grid.stop, grid.points, grid.values[i], replicates, seed, first, count) and LimitExceeded
for n / L / replicates / grid.points / replicates × points / work over ``limits``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field

import numpy as np

from services.common.control import RunControl
from services.common.errors import require, require_limit
from services.simulation.cluster import DaskBlocks
from services.simulation.graphs import MeanStd, require_seed
from services.simulation.kernels import newman_ziff as nz
from services.simulation.limits import DEFAULT_LIMITS, Limits
from services.simulation.models import (
    CONFIGURATION,
    ERDOS_RENYI,
    ERDOS_RENYI_GNM,
    SQUARE_LATTICE_SITE,
    DegreeDistribution,
    Substrate,
    check_memory,
    configuration_threshold,
    degree_pmf,
    mean_degree,
    require_int,
    require_real,
    resolve_substrate,
)
from services.simulation.replicates import Progress, run_replicates
from services.simulation.split import pool_width
from services.simulation.theory import (
    SQUARE_BOND_THRESHOLD,
    SQUARE_SITE_THRESHOLD,
    configuration_giant_fraction,
    er_giant_fraction,
)


@dataclass(frozen=True)
class Grid:
    """Control values: ``start``, ``stop``, ``points`` (a linspace) or explicit ``values``."""

    start: float | None = None
    stop: float | None = None
    points: int | None = None
    values: tuple[float, ...] | None = None


@dataclass(frozen=True)
class SweepPoint:
    """Canonical-ensemble observables at one control value (means and stds over replicates)."""

    control: float
    largest_fraction: MeanStd
    second_largest_fraction: MeanStd
    susceptibility: MeanStd
    clusters_per_node: MeanStd
    wrapping: MeanStd | None


@dataclass(frozen=True)
class TheoryPoint:
    """Mean-field giant-component fraction at one control value."""

    control: float
    largest_fraction: float


@dataclass(frozen=True)
class SweepResult:
    """The curve of a sweep, its theory and the request facts that shaped it."""

    model: str
    nodes: int
    control: str
    seed: int
    replicates: int
    points: tuple[SweepPoint, ...]
    theory: tuple[TheoryPoint, ...]
    threshold: float | None
    moments: np.ndarray = field(repr=False, compare=False)  # (R, P, len(nz.MOMENTS))


@dataclass(frozen=True)
class SweepPlan:
    """A validated sweep request: substrate, control name and values, seed, replicates."""

    substrate: Substrate
    control: str
    controls: tuple[float, ...]
    seed: int
    replicates: int


@dataclass(frozen=True)
class SweepBatch:
    """Per-replicate canonical moments of replicates first..first+count-1 of ``plan``."""

    plan: SweepPlan
    first: int
    moments: np.ndarray = field(repr=False, compare=False)  # (count, P, len(nz.MOMENTS))

    @property
    def count(self) -> int:
        return int(self.moments.shape[0])


def _control_of(sub: Substrate) -> tuple[str, float]:
    """(name, largest allowed value) of the model's control."""
    if sub.model in (ERDOS_RENYI, ERDOS_RENYI_GNM):
        return "c", float(sub.nodes - 1)
    if sub.model == CONFIGURATION:
        return "phi", 1.0
    return "p", 1.0


def resolve_grid(grid: Grid, high: float, limits: Limits) -> tuple[float, ...]:
    """Check the grid fields and return its control values (each in [0, high])."""
    if grid.values is not None:
        for name in ("start", "stop", "points"):
            require(getattr(grid, name) is None, f"grid.{name}", "give values or start/stop/points")
        require(len(grid.values) >= 1, "grid.values", "must hold at least one value")
        require_limit(len(grid.values), limits.max_points, "grid.values", "grid points")
        return tuple(
            require_real(v, f"grid.values[{i}]", 0.0, high) for i, v in enumerate(grid.values)
        )
    for name in ("start", "stop", "points"):
        require(getattr(grid, name) is not None, f"grid.{name}", "is required (or give values)")
    start = require_real(grid.start, "grid.start", 0.0, high)
    stop = require_real(grid.stop, "grid.stop", 0.0, high)
    points = require_int(grid.points, "grid.points", 1)
    require_limit(points, limits.max_points, "grid.points", "grid points")
    require(start <= stop, "grid.stop", f"must be >= grid.start ({start:g}), got {stop:g}")
    if points == 1:
        require(start == stop, "grid.points", "one point needs grid.start == grid.stop")
        return (start,)
    return tuple(float(v) for v in np.linspace(start, stop, points))


def plan_sweep(
    model: str,
    *,
    n: int | None,
    L: int | None,
    degrees: DegreeDistribution | None,
    grid: Grid,
    replicates: int,
    seed: int,
    limits: Limits,
    threads: int = 1,
) -> SweepPlan:
    """Validate a sweep request against the model and the limits (memory: ``threads``
    replicates at once)."""
    sub = resolve_substrate(model, n=n, L=L, degrees=degrees, limits=limits)
    control, high = _control_of(sub)
    controls = resolve_grid(grid, high, limits)
    reps = require_int(replicates, "replicates", 1)
    seed_v = require_seed(seed)
    top = max(controls)
    if sub.model == ERDOS_RENYI:  # pairs drawn by the pass: λ = -n²/2·log(1 - p) at the top
        p_top = min(top / (sub.nodes - 1), 1.0 - 2.0**-53)
        edges = -0.5 * float(sub.nodes) ** 2 * math.log1p(-p_top)
    elif sub.model == ERDOS_RENYI_GNM:
        edges = top * sub.nodes / 2.0
    elif sub.model == CONFIGURATION:
        assert sub.degrees is not None
        edges = sub.nodes * mean_degree(sub.degrees) / 2.0
    else:
        edges = 2.0 * sub.nodes
    limits.check_work(sub.nodes, edges, reps)
    check_memory(sub, 0.0 if sub.model == ERDOS_RENYI else edges, min(reps, threads), limits)
    require_limit(reps * len(controls), limits.max_cells, "replicates", "replicates × grid points")
    plan = SweepPlan(sub, control, controls, seed_v, reps)
    require_limit(
        window_cells(plan),
        limits.max_window_cells,
        "grid.points",
        "convolution weights held by the sweep: grid points × window width ~ 20·sqrt(edges)",
    )
    return plan


def window_cells(plan: SweepPlan) -> int:
    """How many convolution weights a pass of ``plan`` holds (Σ of its windows' widths)."""
    sub = plan.substrate
    xs = np.asarray(plan.controls, dtype=np.float64)
    if sub.model == ERDOS_RENYI:
        lo, hi, *_ = nz.poisson_windows(nz.er_lambdas(sub.nodes, xs))
    elif sub.model == ERDOS_RENYI_GNM:
        return len(xs)  # microcanonical: one weight per point
    else:
        if sub.model == CONFIGURATION:
            assert sub.degrees is not None
            bonds = round(sub.nodes * mean_degree(sub.degrees) / 2.0)  # expected; varies
        else:
            bonds = sub.nodes if sub.model == SQUARE_LATTICE_SITE else 2 * sub.nodes
        lo, hi, *_ = nz.binomial_windows(bonds, xs)
    return int(np.sum(hi - lo + 1))


def _kernel(plan: SweepPlan) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """The Newman–Ziff batch kernel of the plan's model, bound to its grid (and, for ER,
    to the grid's convolution weights, shared by every replicate and thread)."""
    sub = plan.substrate
    xs = np.asarray(plan.controls, dtype=np.float64)
    if sub.model == ERDOS_RENYI:  # the weights depend on the grid only: computed once
        lo, hi, off, w = nz.er_weights(sub.nodes, xs)
        return lambda st, mt: nz.er_sweep_weighted(sub.nodes, lo, hi, off, w, st, mt)
    if sub.model == ERDOS_RENYI_GNM:
        ms = np.rint(xs * sub.nodes / 2.0).astype(np.int64)
        return lambda st, mt: nz.gnm_sweep_batch(sub.nodes, ms, st, mt)
    if sub.model == CONFIGURATION:
        assert sub.degrees is not None
        ks, pmf = degree_pmf(sub.degrees)
        cdf = np.cumsum(pmf)
        cdf[-1] = 1.0
        return lambda st, mt: nz.configuration_sweep_batch(sub.nodes, ks, cdf, xs, st, mt)
    assert sub.L is not None
    side = sub.L
    if sub.model == SQUARE_LATTICE_SITE:
        return lambda st, mt: nz.lattice_site_sweep_batch(side, xs, st, mt)
    return lambda st, mt: nz.lattice_bond_sweep_batch(side, xs, st, mt)


def sweep_batch(
    model: str = ERDOS_RENYI,
    *,
    n: int | None = None,
    L: int | None = None,
    degrees: DegreeDistribution | None = None,
    grid: Grid,
    replicates: int = 1,
    seed: int,
    first: int = 0,
    count: int | None = None,
    limits: Limits = DEFAULT_LIMITS,
    executor: Executor | None = None,
    max_workers: int | None = None,
    progress: Progress | None = None,
    control: RunControl | None = None,
    cluster: DaskBlocks | None = None,
) -> SweepBatch:
    """Run replicates first..first+count-1 (default: all) of a sweep; see the module doc."""
    plan = plan_sweep(
        model,
        n=n,
        L=L,
        degrees=degrees,
        grid=grid,
        replicates=replicates,
        seed=seed,
        limits=limits,
        threads=pool_width(executor, max_workers),
    )
    start = require_int(first, "first", 0, plan.replicates - 1)
    size = plan.replicates - start if count is None else require_int(count, "count", 1)
    require(
        start + size <= plan.replicates,
        "count",
        f"first + count must be <= replicates ({plan.replicates}), got {start + size}",
    )
    if control is not None:
        control.begin(size)
    moments = run_replicates(
        _kernel(plan),
        plan.seed,
        start,
        size,
        executor=executor,
        max_workers=max_workers,
        progress=progress,
        progress_total=plan.replicates,
        progress_offset=start,
        control=control,
        cluster=cluster,
    )
    return SweepBatch(plan, start, moments)


def merge_batches(batches: Sequence[SweepBatch]) -> SweepBatch:
    """Join batches of one plan, contiguous in replicate order, into one batch (exactly)."""
    require(len(batches) >= 1, "batches", "need at least one batch")
    ordered = sorted(batches, key=lambda b: b.first)
    plan = ordered[0].plan
    nxt = ordered[0].first
    for b in ordered:
        require(b.plan == plan, "batches", "batches come from different requests")
        require(b.first == nxt, "batches", f"replicates must be contiguous; gap at {nxt}")
        nxt = b.first + b.count
    return SweepBatch(plan, ordered[0].first, np.concatenate([b.moments for b in ordered]))


def _mean_std(m: np.ndarray, k: int) -> list[MeanStd]:
    """MeanStd per grid point from moment columns k (Q) and k+1 (Q²) of m (R, P, K)."""
    mean = m[:, :, k].mean(axis=0)
    sq = m[:, :, k + 1].mean(axis=0)
    std = np.sqrt(np.maximum(sq - mean * mean, 0.0))
    return [MeanStd(float(a), float(b)) for a, b in zip(mean, std, strict=True)]


def theory_curve(plan: SweepPlan) -> tuple[tuple[TheoryPoint, ...], float | None]:
    """Mean-field S on the plan's grid (if the model has one) and the model's threshold."""
    sub = plan.substrate
    xs = np.asarray(plan.controls)
    if sub.model in (ERDOS_RENYI, ERDOS_RENYI_GNM):
        s, threshold = er_giant_fraction(xs), 1.0
    elif sub.model == CONFIGURATION:
        assert sub.degrees is not None
        s = configuration_giant_fraction(sub.degrees, xs)
        threshold = configuration_threshold(sub.degrees)
    else:
        site = sub.model == SQUARE_LATTICE_SITE
        return (), SQUARE_SITE_THRESHOLD if site else SQUARE_BOND_THRESHOLD
    points = tuple(TheoryPoint(float(x), float(v)) for x, v in zip(xs, s, strict=True))
    return points, threshold


def summarize(batch: SweepBatch) -> SweepResult:
    """Means and stds over the batch's replicates at every grid point, plus theory."""
    plan = batch.plan
    m = batch.moments
    big, second, chi, cpn = (_mean_std(m, k) for k in (0, 2, 4, 6))
    if plan.substrate.is_lattice:
        wrap_mean = m[:, :, 8].mean(axis=0)
        wrap: list[MeanStd | None] = [
            MeanStd(float(w), float(np.sqrt(max(w - w * w, 0.0)))) for w in wrap_mean
        ]
    else:
        wrap = [None] * len(plan.controls)
    points = tuple(
        SweepPoint(x, *cols)
        for x, *cols in zip(plan.controls, big, second, chi, cpn, wrap, strict=True)
    )
    theory, threshold = theory_curve(plan)
    return SweepResult(
        model=plan.substrate.model,
        nodes=plan.substrate.nodes,
        control=plan.control,
        seed=plan.seed,
        replicates=batch.count,
        points=points,
        theory=theory,
        threshold=threshold,
        moments=m,
    )


def sweep(
    model: str = ERDOS_RENYI,
    *,
    n: int | None = None,
    L: int | None = None,
    degrees: DegreeDistribution | None = None,
    grid: Grid,
    replicates: int = 1,
    seed: int,
    limits: Limits = DEFAULT_LIMITS,
    executor: Executor | None = None,
    max_workers: int | None = None,
    progress: Progress | None = None,
    control: RunControl | None = None,
    cluster: DaskBlocks | None = None,
) -> SweepResult:
    """Run every replicate of a sweep and summarize it; see the module doc."""
    batch = sweep_batch(
        model,
        n=n,
        L=L,
        degrees=degrees,
        grid=grid,
        replicates=replicates,
        seed=seed,
        limits=limits,
        executor=executor,
        max_workers=max_workers,
        progress=progress,
        control=control,
        cluster=cluster,
    )
    return summarize(batch)
