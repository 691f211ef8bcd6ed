"""``Accept: image/svg+xml`` on a computing route: the picture of the same cached result."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from gateway.core.errors import problem
from gateway.plots.render import RENDERERS, SVG, svg_for


def wants_svg(headers: Mapping[str, str]) -> bool:
    """Whether the client asked for a picture instead of JSON."""
    return SVG in headers.get("accept", "")


def refuse_unplotted(method: str) -> Response | None:
    """A 406 problem (before any work) for a method that has no picture, else None."""
    if method in RENDERERS:
        return None
    names = ", ".join(sorted(RENDERERS))
    return problem(
        406, "Not acceptable", f"{method} has no {SVG} picture; methods with one: {names}"
    )


async def svg_response(
    method: str, result: dict[str, Any], request: dict[str, Any], headers: Mapping[str, str]
) -> Response:
    """Render off the event loop (matplotlib takes ~0.1 s) and answer with the SVG."""
    body = await run_in_threadpool(svg_for, method, result, request)
    return Response(body, media_type=SVG, headers=dict(headers))
