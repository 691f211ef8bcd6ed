"""``Accept: image/svg+xml`` on a computing route: the picture of the same cached result.

A route that can draw lists ``image/svg+xml`` beside JSON in its OpenAPI (``responses``);
``gateway.api.negotiation`` refuses the picture (406) on every route that does not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from gateway.api.negotiation import JSON, preferred
from gateway.plots.render import RENDERERS, SVG, svg_for


def wants_svg(headers: Mapping[str, str]) -> bool:
    """Whether the client prefers a picture to JSON (a tie goes to JSON)."""
    return preferred(headers.get("accept", ""), [SVG, JSON]) == SVG


def picture_responses(method: str, description: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI success response of a route calling ``method``: ``image/svg+xml`` listed
    beside JSON when a renderer draws its result, else nothing added."""
    if method not in RENDERERS:
        return {}
    picture = {"schema": {"type": "string", "description": "An SVG document (matplotlib)."}}
    text = f"{description}; with `Accept: {SVG}`, an SVG picture of the same result"
    return {200: {"description": text, "content": {SVG: picture}}}


async def svg_response(
    method: str, result: dict[str, Any], request: dict[str, Any], headers: Mapping[str, str]
) -> Response:
    """Render off the event loop (matplotlib takes ~0.1 s) and answer with the SVG."""
    body = await run_in_threadpool(svg_for, method, result, request)
    return Response(body, media_type=SVG, headers=dict(headers))
