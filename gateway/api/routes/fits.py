"""Curve fits: scaling laws with standard errors, intervals and information criteria."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse

from gateway.api.compute import respond
from gateway.core.clients import FITTING
from gateway.core.errors import ERROR_RESPONSES
from gateway.core.protojson import model_for
from zuhur.v1 import fitting_pb2 as pb

router = APIRouter(prefix="/v1/fits", tags=["fits"])

FitOut = model_for(pb.FitResult.DESCRIPTOR, request=False)
PowerLawIn = model_for(pb.FitPowerLawRequest.DESCRIPTOR, request=True)
POWER_LAW_EXAMPLE = {"x": [1, 2, 4, 8, 16], "y": [10.0, 5.1, 2.4, 1.26, 0.62], "offset": False}


@router.post("/power-law", response_model=FitOut, responses=ERROR_RESPONSES)
async def fit_power_law(
    body: Annotated[PowerLawIn, Body(examples=[POWER_LAW_EXAMPLE])],  # type: ignore[valid-type]
    request: Request,
) -> JSONResponse:
    """Fit y = A·x^(-alpha) (+ E) by weighted nonlinear least squares."""
    return await respond(request, body, pb.FitPowerLawRequest, FITTING, "FitPowerLaw")
