"""The /ui page: run percolation sweeps, fit scaling laws, judge emergence, and look.

Everything it loads comes from the gateway (``static/``: one HTML page, its script and
style; the pictures are the server's SVGs from ``gateway.plots``), so it works offline and
a Content-Security-Policy keeps the browser from asking anyone else. Two composite pictures
the API has no single method for are drawn here from results the page already holds.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from gateway.plots import SVG
from gateway.plots.percolation import essay_svg, sweeps_svg

STATIC = files("gateway.ui") / "static"
MAX_CURVES = 8
# Inline SVG pictures carry style attributes; nothing may come from elsewhere.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'self'"
)

router = APIRouter(prefix="/ui", include_in_schema=False)


class Curves(BaseModel):
    """Sweep curves (POST /v1/sweeps results) to draw on one chart."""

    curves: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_CURVES)


class Essay(BaseModel):
    """The essay picture: one sweep curve and SampleGraph results with edge lists."""

    curve: dict[str, Any]
    samples: list[dict[str, Any]] = Field(min_length=1, max_length=4)


@router.get("")
async def ui_root() -> RedirectResponse:
    return RedirectResponse("/ui/")


@router.get("/")
async def page() -> FileResponse:
    """The page itself."""
    response = FileResponse(str(STATIC / "index.html"), media_type="text/html")
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


@router.post("/plots/sweeps")
async def plot_sweeps(body: Curves) -> Response:
    """Several sweeps (e.g. sizes n) on one chart."""
    return Response(await run_in_threadpool(sweeps_svg, body.curves), media_type=SVG)


@router.post("/plots/essay")
async def plot_essay(body: Essay) -> Response:
    """The n = 50 curve with graphs drawn at chosen mean degrees beside it."""
    return Response(await run_in_threadpool(essay_svg, body.curve, body.samples), media_type=SVG)


def install(app: FastAPI) -> None:
    """Serve the page at /ui/ and its assets at /ui/static/."""
    app.mount("/ui/static", StaticFiles(directory=str(STATIC)), name="ui-static")
    app.include_router(router)
