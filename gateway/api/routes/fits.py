"""Curve fits: scaling laws and emergence, with standard errors, intervals and AIC/BIC."""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter
from google.protobuf.message import Message

from gateway.api.negotiation import NegotiatedRoute
from gateway.api.routing import add_compute_route
from gateway.core.clients import FITTING
from zuhur.v1 import fitting_pb2 as pb

router = APIRouter(prefix="/fits", tags=["fits"], route_class=NegotiatedRoute)


def add_fit_route(
    path: str, message_type: type[Message], method: str, summary: str, example: dict[str, Any]
) -> None:
    """Register ``POST /v1/fits/{path}`` calling ``Fitting.{method}`` (returns a FitResult)."""
    add_compute_route(
        router, f"/{path}", message_type, pb.FitResult, FITTING, method, summary, example
    )


# An example drawn from the Chinchilla law itself (E=1.69, A=406.4, B=410.7, alpha=0.34,
# beta=0.28) at the sizes of a real sweep.
_N = [n for n in (7e7, 3e8, 1.2e9, 4e9, 1.6e10) for _ in range(4)]
_D = [5e9, 2e10, 1e11, 5e11] * 5
CHINCHILLA_EXAMPLE = {
    "form": "chinchilla",
    "N": _N,
    "D": _D,
    "loss": [
        round(1.69 + 406.4 / n**0.34 + 410.7 / d**0.28, 4) for n, d in zip(_N, _D, strict=True)
    ],
    "predict_C": [1e24],
    "seed": 1,
}


def _er_scaling_curve(n: float) -> dict[str, Any]:
    """One size's curve drawn from Erdős–Rényi finite-size scaling (x_c = 1, exponents 1/3 in
    n): χ = n^(1/3)·exp(-(z - 0.8)²), S = n^(-1/3)·exp(z/(1 + |z|)), z = (c - 1)·n^(1/3)."""
    zs = [-2.0 + 0.4 * i for i in range(15)]
    return {
        "size": n,
        "control": [round(1 + z * n ** (-1 / 3), 5) for z in zs],
        "largest_fraction": [round(n ** (-1 / 3) * math.exp(z / (1 + abs(z))), 5) for z in zs],
        "susceptibility": [round(n ** (1 / 3) * math.exp(-((z - 0.8) ** 2)), 4) for z in zs],
    }


# Raw curves at four sizes, drawn from the scaling law itself: the fit returns threshold ≈ 1.
CRITICAL_POINT_EXAMPLE = {
    "curves": [_er_scaling_curve(n) for n in (1e3, 4e3, 1.6e4, 6.4e4)],
    "one_over_nu": 1 / 3,
}
add_fit_route(
    "power-law",
    pb.FitPowerLawRequest,
    "FitPowerLaw",
    "Fit y = A·x^(-alpha) (+ E when offset) by weighted nonlinear least squares.",
    {"x": [1, 2, 4, 8, 16], "y": [10.0, 5.1, 2.4, 1.26, 0.62], "offset": False},
)
add_fit_route(
    "scaling-law",
    pb.FitScalingLawRequest,
    "FitScalingLaw",
    "Fit a scaling law: chinchilla L(N, D) = E + A/N^alpha + B/D^beta as Hoffmann et al. "
    "(2022) approach 3, or Kaplan et al. (2020). Chinchilla also returns the compute-optimal "
    "allocation N_opt(C) = G (C/6)^a, D_opt(C) = G^-1 (C/6)^b.",
    CHINCHILLA_EXAMPLE,
)
add_fit_route(
    "broken-power-law",
    pb.FitBrokenPowerLawRequest,
    "FitBrokenPowerLaw",
    "Fit a broken neural scaling law (Caballero et al. 2022) with 1 or 2 breaks.",
    {
        "x": [160, 256, 384, 512, 576, 640, 736],
        "y": [2.14, 2.09, 2.05, 2.0, 1.86, 1.51, 0.97],
        "breaks": 1,
        "predict_x": [928],
    },
)
add_fit_route(
    "critical-point",
    pb.FitCriticalPointRequest,
    "FitCriticalPoint",
    "Estimate a percolation threshold and exponents by finite-size scaling of sweep curves "
    "(susceptibility peaks) at several sizes; pass raw `curves` or the `sweeps` returned by "
    "POST /v1/sweeps.",
    CRITICAL_POINT_EXAMPLE,
)
add_compute_route(
    router,
    "/emergence",
    pb.FitEmergenceRequest,
    pb.EmergenceResult,
    FITTING,
    "FitEmergence",
    "Is a score-against-scale curve an emergent jump? Tests a flat start, a jump far beyond "
    "the noise and sigmoids (logistic, Gompertz) against smooth laws (power law, linear in "
    "log-scale); returns a verdict (emergent, smooth, flat, declining, inconclusive) with "
    "the test that decided, BIG-bench breakthroughness and linearity, and for a jump the "
    "threshold scale with a 95% interval when it lies inside the data. From 3 sizes.",
    {
        "scale": [1e7, 3e7, 1e8, 3e8, 1e9, 3e9, 1e10, 3e10, 1e11, 3e11, 1e12],
        "score": [0.0, 0.0, 0.004, 0.02, 0.09, 0.25, 0.48, 0.68, 0.82, 0.9, 0.95],
        "floor": 0.0,
        "items": [500],
        "seed": 3,
    },
)
add_compute_route(
    router,
    "/emergence/batch",
    pb.FitEmergenceBatchRequest,
    pb.EmergenceBatchResult,
    FITTING,
    "FitEmergenceBatch",
    "A whole table in one call: the emergence verdict of every series (a model family on a "
    "benchmark), one result per series; a malformed series gets its field errors in place "
    "of its result instead of failing the batch.",
    {
        "series": [
            {"name": "mmlu/GPT-3", "scale": [2.7e9, 6.7e9, 1.3e10, 1.75e11],
             "score": [0.259, 0.249, 0.26, 0.439], "items": [14042], "floor": 0.25},
            {"name": "lambada/Pythia", "scale": [7e7, 1.6e8, 4.1e8, 1.4e9, 2.8e9, 6.9e9, 1.2e10],
             "score": [0.185, 0.328, 0.516, 0.616, 0.647, 0.673, 0.705], "items": [5153]},
        ]
    },
)  # fmt: skip
