"""Sweeps: whole emergence curves (largest-cluster fraction against density) in one pass."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Header, Request, Response

from gateway.api.cached_call import NDJSON, respond, stream_ndjson
from gateway.api.deps import ContextDep
from gateway.api.negotiation import NegotiatedRoute
from gateway.api.routing import ComputeMethod, add_hit_route
from gateway.core.clients import SIMULATION
from gateway.core.errors import ERROR_RESPONSES
from gateway.core.protojson import model_for
from gateway.plots.http import picture_responses
from zuhur.v1 import simulation_pb2 as pb

router = APIRouter(tags=["sweeps"], route_class=NegotiatedRoute)

SweepIn = model_for(pb.SweepRequest.DESCRIPTOR, request=True)
CurveOut = model_for(pb.SweepCurve.DESCRIPTOR, request=False)
SWEEP_EXAMPLE = {
    "model": "erdos_renyi",
    "n": 100000,
    "grid": {"start": 0, "stop": 4, "points": 50},
    "replicates": 20,
    "seed": 1,
}
PICTURE = picture_responses("Sweep", "The curve")[200]
# Without NDJSON asked for, a hit is the stored curve: the hot path may answer it.
add_hit_route(
    "/sweeps", SweepIn, ComputeMethod(pb.SweepRequest, SIMULATION, "Sweep", stream_field="curve")
)
RESPONSES = {
    **ERROR_RESPONSES,
    200: {
        "description": f"{PICTURE['description']}; with `Accept: application/x-ndjson`, one "
        'JSON line per progress event (`{"progress": {"done", "total"}}`) and `{"curve": ...}` '
        "last.",
        "content": {NDJSON: {}, **PICTURE["content"]},
    },
}


@router.post("/sweeps", response_model=CurveOut, responses=RESPONSES, name="Sweep")
async def run_sweep(
    body: Annotated[SweepIn, Body(examples=[SWEEP_EXAMPLE])],  # type: ignore[valid-type]
    request: Request,
    ctx: ContextDep,
    accept: Annotated[str, Header()] = "application/json",
) -> Response:
    """Run a Newman–Ziff sweep over a grid of control values and return the curve."""
    args = (ctx, request, body, pb.SweepRequest, SIMULATION, "Sweep", "curve")
    if NDJSON in accept:
        return await stream_ndjson(*args)
    return await respond(*args)
