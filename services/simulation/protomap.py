"""Simulation requests and results between proto messages and the plain science calls."""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

import numpy as np

from services.common.protoargs import optional, request_seed
from services.simulation import ENGINE_VERSION
from services.simulation.abilities import AbilitiesResult
from services.simulation.graphs import MeanStd, SampleResult
from services.simulation.models import DegreeDistribution
from services.simulation.sweeps import Grid, SweepResult
from zuhur.v1 import common_pb2, simulation_pb2


def degrees_of(request: Any) -> DegreeDistribution | None:
    if not request.HasField("degrees"):
        return None
    d = request.degrees
    fields: dict[str, Any] = {k: optional(d, k) for k in ("mean", "gamma", "k_min", "k_max", "k")}
    return DegreeDistribution(kind=d.kind, **fields)


def sample_response(result: SampleResult) -> simulation_pb2.SampleGraphResponse:
    return simulation_pb2.SampleGraphResponse(
        model=result.model,
        n=result.nodes,
        p=result.p,
        seed=result.seed,
        engine_version=ENGINE_VERSION,
        replicates=[
            simulation_pb2.GraphReplicate(**asdict(r), edge_list=edges.ravel().tolist())
            for r, edges in zip(
                result.replicates,
                result.edge_lists or [np.empty(0)] * len(result.replicates),
                strict=True,
            )
        ],
        largest_fraction=common_pb2.Stat(**asdict(result.largest_fraction)),
        theory_largest_fraction=result.theory_largest_fraction,
    )


def sweep_args(request: simulation_pb2.SweepRequest) -> dict[str, Any]:
    """Keyword arguments of ``sweeps.sweep`` from a request (seed drawn when absent)."""
    replicates = optional(request, "replicates")
    return {
        "model": request.model or "erdos_renyi",
        "n": optional(request, "n"),
        "L": optional(request, "L"),
        "degrees": degrees_of(request),
        "grid": grid_of(request),
        "replicates": 1 if replicates is None else replicates,
        "seed": request_seed(request),
    }


def progress_event(done: float, total: int) -> simulation_pb2.SweepEvent:
    """Progress of ``done`` (fractional) replicates out of ``total``."""
    fraction = min(max(done / total, 0.0), 1.0) if total > 0 else 0.0
    progress = simulation_pb2.SweepProgress(done=int(done), total=total, fraction=fraction)
    return simulation_pb2.SweepEvent(progress=progress)


def stat(m: MeanStd) -> common_pb2.Stat:
    return common_pb2.Stat(mean=m.mean, std=m.std)


def grid_of(request: simulation_pb2.SweepRequest) -> Grid:
    g = request.grid
    return Grid(
        start=optional(g, "start"),
        stop=optional(g, "stop"),
        points=optional(g, "points"),
        values=tuple(g.values) or None,
    )


def sweep_curve(result: SweepResult) -> simulation_pb2.SweepCurve:
    curve = simulation_pb2.SweepCurve(
        model=result.model,
        n=result.nodes,
        control=result.control,
        seed=result.seed,
        engine_version=ENGINE_VERSION,
        replicates=result.replicates,
        theory=[simulation_pb2.TheoryPoint(**asdict(t)) for t in result.theory],
        threshold=result.threshold,
    )
    for p in result.points:
        point = curve.points.add(
            control=p.control,
            largest_fraction=stat(p.largest_fraction),
            second_largest_fraction=stat(p.second_largest_fraction),
            susceptibility=stat(p.susceptibility),
            clusters_per_node=stat(p.clusters_per_node),
        )
        if p.wrapping is not None:
            point.wrapping.CopyFrom(stat(p.wrapping))
    return curve


def abilities_response(result: AbilitiesResult) -> simulation_pb2.SimulateAbilitiesResponse:
    out = simulation_pb2.SimulateAbilitiesResponse(
        sizes=result.sizes.tolist(),
        token_accuracy=result.token_accuracy.tolist(),
        loss=result.loss.tolist(),
        k=result.k,
        items=result.items,
        replicates=result.replicates,
        seed=result.seed,
        options=result.options,
        vocab_size=result.vocab_size,
        engine_version=ENGINE_VERSION,
    )
    for metric, curve in result.curves.items():
        target = out.curves[metric]
        for p in curve.points:
            point = target.points.add(size=p.size, mean=p.mean, sd=p.sd, ci95=list(p.ci95))
            if math.isfinite(p.expected):
                point.expected = p.expected
    return out
