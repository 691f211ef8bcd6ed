"""Random graphs: direct sampling of independent realizations."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.api.negotiation import NegotiatedRoute
from gateway.api.routing import add_compute_route
from gateway.core.clients import SIMULATION
from zuhur.v1 import simulation_pb2 as pb

router = APIRouter(prefix="/graphs", tags=["graphs"], route_class=NegotiatedRoute)

add_compute_route(
    router,
    "/sample",
    pb.SampleGraphRequest,
    pb.SampleGraphResponse,
    SIMULATION,
    "SampleGraph",
    "Sample independent realizations of a random graph at one control value and report "
    "their components.",
    {"model": "erdos_renyi", "n": 100000, "c": 2.0, "replicates": 4, "seed": 7},
)
