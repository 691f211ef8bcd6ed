"""Content negotiation: an operation answers in a media type its OpenAPI lists, or 406.

Every documented route is a ``NegotiatedRoute``: the media types of its success response
are read from the same declarations FastAPI writes into the OpenAPI (the response class and
the ``responses`` content), and a request whose ``Accept`` admits none of them gets a 406
problem naming them, before the body is read or any work is done. So a client asking for
``image/svg+xml`` gets a picture from exactly the routes that document one.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.datastructures import DefaultPlaceholder
from fastapi.routing import APIRoute
from mimeparse import MimeTypeParseException, best_match

from gateway.core.errors import problem

JSON = "application/json"


def success_media_types(route: APIRoute) -> list[str]:
    """The media types the OpenAPI lists for ``route``'s success response."""
    code = route.status_code or 200
    declared = route.responses.get(code) or route.responses.get(str(code)) or {}
    response_class = route.response_class
    if isinstance(response_class, DefaultPlaceholder):
        response_class = response_class.value
    default = getattr(response_class, "media_type", None) or JSON
    content = [default, *declared.get("content", {})]
    return list(dict.fromkeys(content))


def preferred(accept: str, offered: list[str]) -> str:
    """The type of ``offered`` an ``Accept`` header prefers (ties go to the later one), ""
    when it admits none; an empty or malformed header prefers the last."""
    if accept.strip() in ("", "*/*"):  # most clients: no parsing on the hot path
        return offered[-1]
    try:
        return str(best_match(offered, accept))
    except (MimeTypeParseException, ValueError):
        return offered[-1]


def not_acceptable(offered: list[str]) -> Response:
    """The 406 problem naming what the operation can send."""
    names = ", ".join(offered)
    return problem(406, "Not acceptable", f"this operation answers in {names}; set Accept to one")


class NegotiatedRoute(APIRoute):
    """An API route that answers 406 to an ``Accept`` none of its documented types meets."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if not self.include_in_schema:  # undocumented routes promise nothing
            return handler
        offered = success_media_types(self)

        async def negotiated(request: Request) -> Response:
            if not preferred(request.headers.get("accept", ""), offered):
                return not_acceptable(offered)
            return await handler(request)

        return negotiated
