"""Emergent abilities: simulate benchmark curves, and test a jump against a smooth trend."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.api.negotiation import NegotiatedRoute
from gateway.api.routing import add_compute_route
from gateway.core.clients import FITTING, SIMULATION
from zuhur.v1 import fitting_pb2, simulation_pb2

ABILITIES_EXAMPLE = {
    "sizes": [1e7, 1e8, 1e9, 1e10, 1e11, 1e12],
    "k": 8,
    "items": 500,
    "metrics": ["exact_match", "token_accuracy"],
    "replicates": 5,
    "seed": 3,
}
MIRAGE_EXAMPLE = {
    "scale": [1e8, 3e8, 1e9, 3e9, 1e10, 3e10, 1e11],
    "exact_match": [0.004, 0.03, 0.11, 0.27, 0.45, 0.62, 0.75],
    "token_accuracy": [0.5, 0.64, 0.76, 0.85, 0.91, 0.94, 0.965],
    "k": 8,
    "items": [500],
    "seed": 1,
}
router = APIRouter(prefix="/abilities", tags=["abilities"], route_class=NegotiatedRoute)

add_compute_route(
    router,
    "/simulate",
    simulation_pb2.SimulateAbilitiesRequest,
    simulation_pb2.SimulateAbilitiesResponse,
    SIMULATION,
    "SimulateAbilities",
    "Simulate benchmark scores of a model family whose per-token loss falls smoothly, "
    "L(N) = (N_c/N)^alpha, on finite evaluation sets: per metric and size the closed-form "
    "expectation, the mean over replicates and its 95% range.",
    ABILITIES_EXAMPLE,
)
add_compute_route(
    router,
    "/analyze",
    fitting_pb2.AnalyzeMirageRequest,
    fitting_pb2.MirageResult,
    FITTING,
    "AnalyzeMirage",
    "Is an exact-match jump a mirage of the metric? Fits the smooth per-token law to the "
    "token-level evidence, pushes it through p^k and tests the observed exact-match curve "
    "against it (Monte Carlo goodness of fit).",
    MIRAGE_EXAMPLE,
)
