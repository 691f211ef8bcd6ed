"""Random graphs: direct sampling of independent realizations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse

from gateway.api.compute import respond
from gateway.core.clients import SIMULATION
from gateway.core.errors import ERROR_RESPONSES
from gateway.core.protojson import model_for
from zuhur.v1 import simulation_pb2 as pb

router = APIRouter(prefix="/v1/graphs", tags=["graphs"])

SampleIn = model_for(pb.SampleGraphRequest.DESCRIPTOR, request=True)
SampleOut = model_for(pb.SampleGraphResponse.DESCRIPTOR, request=False)
SAMPLE_EXAMPLE = {"model": "erdos_renyi", "n": 100000, "c": 2.0, "replicates": 4, "seed": 7}


@router.post("/sample", response_model=SampleOut, responses=ERROR_RESPONSES)
async def sample_graph(
    body: Annotated[SampleIn, Body(examples=[SAMPLE_EXAMPLE])],  # type: ignore[valid-type]
    request: Request,
) -> JSONResponse:
    """Sample ``replicates`` independent graphs and report their components."""
    return await respond(request, body, pb.SampleGraphRequest, SIMULATION, "SampleGraph")
